# GradWatch: one image for the web server (`python -m server`) and the scale-out workers
# (`python -m trainer.worker`); docker-compose.yml picks the command. Settings: GRADWATCH_*.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    GRADWATCH_DATA_DIR=/data

WORKDIR /app
# The pinned dependencies first, so a code change does not reinstall TensorFlow.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY server server
COPY trainer trainer
COPY frontend frontend

# Not root; /data (the SQLite file and the cookie key) belongs to this user, and a named volume
# mounted there starts out with that ownership.
RUN useradd --create-home --uid 10001 gradwatch \
    && mkdir -p /data && chown gradwatch /data
USER gradwatch
VOLUME /data
EXPOSE 8000

CMD ["python", "-m", "server"]
