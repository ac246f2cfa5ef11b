#!/usr/bin/env python3
"""Writes the certificates and keys the authentication tests use into DIRECTORY (PEM):
ca.pem (a test CA), server.pem/server.key (127.0.0.1 and localhost, signed by the CA),
client.pem/client.key (CN=device-1, signed by the CA), untrusted.pem/untrusted.key (CN=device-1,
signed by another CA), expired.pem/expired.key (CN=device-1, signed by the CA, validity ended
a day ago), rsa.key/rsa.pub and ec.key/ec.pub (JWT signing keys), secret (a 48-byte HS256 secret).
Uses python3-cryptography."""

import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

directory = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)


def write(name, data):
    with open(os.path.join(directory, name), "wb") as file:
        file.write(data)


def private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def name(common):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def authority(common):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(name(common))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                   .sign(key, hashes.SHA256()))
    return key, certificate


def leaf(common, ca_key, ca_certificate, start, end, server=False):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(ca_certificate.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


ca_key, ca = authority("tributary test CA")
other_key, other = authority("someone else's CA")
pem = lambda certificate: certificate.public_bytes(serialization.Encoding.PEM)
write("ca.pem", pem(ca))
valid = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))
for file, common, issuer_key, issuer, (start, end), server in [
    ("server", "localhost", ca_key, ca, valid, True),
    ("client", "device-1", ca_key, ca, valid, False),
    ("untrusted", "device-1", other_key, other, valid, False),
    ("expired", "device-1", ca_key, ca, (now - datetime.timedelta(days=3), now - datetime.timedelta(days=1)), False),
]:
    key, certificate = leaf(common, issuer_key, issuer, start, end, server)
    write(f"{file}.pem", pem(certificate))
    write(f"{file}.key", private(key))

rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
write("rsa.key", private(rsa_key))
write("rsa.pub", public(rsa_key))
ec_key = ec.generate_private_key(ec.SECP256R1())
write("ec.key", private(ec_key))
write("ec.pub", public(ec_key))
write("secret", os.urandom(24).hex().encode() + b"\n")
print("ok certs")
