#!/bin/sh
# Starts nginx (deploy/nginx.conf) with the certificate in /etc/gradwatch/tls (fullchain.pem and
# privkey.pem, e.g. Let's Encrypt's, mounted from GRADWATCH_TLS_DIR); without one, with a
# self-signed certificate made here, so a first `docker compose up` serves HTTPS at once
# (browsers warn about it until a real certificate is put there).
set -eu
mkdir -p /etc/nginx/tls
if [ -s /etc/gradwatch/tls/fullchain.pem ] && [ -s /etc/gradwatch/tls/privkey.pem ]; then
    cp /etc/gradwatch/tls/fullchain.pem /etc/gradwatch/tls/privkey.pem /etc/nginx/tls/
else
    echo "gradwatch-nginx: no certificate in GRADWATCH_TLS_DIR; using a self-signed one" >&2
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=gradwatch \
        -keyout /etc/nginx/tls/privkey.pem -out /etc/nginx/tls/fullchain.pem 2>/dev/null
fi
exec nginx -g 'daemon off;'
