# The EK3 HIL rig in a container: the same package list as CI.
FROM debian:bookworm
COPY ci/install-deps /tmp/install-deps
RUN /tmp/install-deps && rm -rf /var/lib/apt/lists/*
WORKDIR /ek3
COPY . .
RUN make build
CMD ["make", "test"]
