# Stand-in for the official python:3.11-slim, only because no image registry is reachable here (see
# ./build). Debian bookworm's Python 3.11 as `python`, pip installing system-wide (as the official image
# lets it), and pip told to trust the machine's CA bundle so that `pip install` reaches PyPI.
FROM ticketing-standin-base:bookworm
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends python3 python3-pip python-is-python3 >/dev/null \
    && rm -rf /var/lib/apt/lists/*
RUN printf '[global]\ncert = /usr/local/share/machine-ca/ca-bundle.crt\nbreak-system-packages = true\n' \
    > /etc/pip.conf
CMD ["python3"]
