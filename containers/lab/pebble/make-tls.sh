#!/bin/sh
# Makes the TLS certificate Pebble's ACME API is served with (for localhost), signed by a
# small CA that the sandbox trusts, so `certbot --server https://localhost:14000/dir` works
# without extra flags. These keys only protect the practice CA inside each sandbox.
set -eu
dir=/etc/pebble/tls
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Pathshala practice ACME CA" \
    -keyout ca-key.pem -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout key.pem -out req.pem 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
openssl x509 -req -in req.pem -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
    -extfile san.ext -out cert.pem 2>/dev/null
rm -f req.pem san.ext ca.srl ca-key.pem
cp ca.pem /usr/local/share/ca-certificates/pathshala-pebble-api.crt
