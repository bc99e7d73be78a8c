# nginx in front of GradWatch (docker-compose.yml, service `nginx`): Debian's nginx package on
# the Debian base of the app's own image, so no other image has to be pulled.
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx openssl \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/conf.d

COPY deploy/nginx.conf /etc/nginx/nginx.conf
COPY deploy/nginx-start.sh /usr/local/bin/gradwatch-nginx
EXPOSE 80 443

CMD ["gradwatch-nginx"]
