#!/usr/bin/env python3
"""An independent verifier of partnerledger's proofs, written from the specs:
RFC 9162 §2.1 (Merkle tree hashes, §2.1.3.2 inclusion and §2.1.4.2
consistency verification), c2sp.org/tlog-checkpoint and c2sp.org/signed-note
(Ed25519 signatures, key hashes, note keys). SHA-256 from hashlib, Ed25519 from
Debian's python3-cryptography, RPCs through python3-grpcio with message
classes generated at run time by `protoc --python_out`.

Against a running ledgerd that signs with the key in --signing-key, it appends
events, then checks every checkpoint, every inclusion proof and every
consistency proof of the log, recomputes the root from the leaves, and checks
that tampered checkpoints and proofs are rejected: a changed leaf, a changed
path hash, a changed signature, a checkpoint signed by another key, one with
another origin, and a consistency proof against a rewritten history.

Usage: /usr/bin/python3 tests/e2e/proof_checker.py --server HOST:PORT \
           --signing-key FILE --verifier-key FILE
Exit status: 0 when every check passed, 1 otherwise.
"""
import argparse
import base64
import glob
import hashlib
import os
import subprocess
import sys
import tempfile
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EM_DASH = "\u2014"
ED25519 = b"\x01"


class Rejected(Exception):
    """A proof, checkpoint or signature that does not verify."""


def sha256(data):
    return hashlib.sha256(data).digest()


# --- RFC 9162 §2.1 ----------------------------------------------------------

def leaf_hash(leaf):
    return sha256(b"\x00" + leaf)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def mth(leaf_hashes):
    """MTH(D[n]) over leaf hashes (§2.1.1), by its recursive definition."""
    n = len(leaf_hashes)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


def verify_inclusion(leaf_index, tree_size, leaf_h, inclusion_path, root):
    """§2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        raise Rejected("leaf_index is not below tree_size")
    fn, sn, r = leaf_index, tree_size - 1, leaf_h
    for p in inclusion_path:
        if sn == 0:
            raise Rejected("inclusion path too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Rejected("inclusion path too short")
    if r != root:
        raise Rejected("inclusion path does not lead to the root")


def verify_consistency(first, second, first_hash, second_hash, consistency_path):
    """§2.1.4.2, step by step (first == second and first == 0 handled as the
    RFC's PROOF definition implies: nothing to prove, an empty path)."""
    if first > second:
        raise Rejected("first is beyond second")
    if first == second or first == 0:
        if consistency_path:
            raise Rejected("a non-empty path where none is due")
        if first == second and first_hash != second_hash:
            raise Rejected("different roots for the same size")
        return
    if not consistency_path:
        raise Rejected("empty consistency path")
    path = list(consistency_path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Rejected("consistency path too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Rejected("consistency path too short")
    if fr != first_hash:
        raise Rejected("does not lead to the first root (history rewritten)")
    if sr != second_hash:
        raise Rejected("does not lead to the second root")


# --- c2sp.org/signed-note and c2sp.org/tlog-checkpoint ---------------------

def key_hash(name, public_key):
    return sha256(name.encode() + b"\n" + ED25519 + public_key)[:4]


def parse_verifier_key(text):
    name, hash_hex, key_b64 = text.strip().split("+", 2)
    raw = base64.b64decode(key_b64, validate=True)
    if raw[:1] != ED25519 or len(raw) != 33:
        raise Rejected("not an Ed25519 verifier key")
    if key_hash(name, raw[1:]).hex() != hash_hex:
        raise Rejected("verifier key hash does not match")
    return name, raw[1:]


def parse_signer_key(text):
    prefix = "PRIVATE+KEY+"
    text = text.strip()
    if not text.startswith(prefix):
        raise Rejected("not a signer key")
    name, _, key_b64 = text[len(prefix):].split("+", 2)
    raw = base64.b64decode(key_b64, validate=True)
    return name, ed25519.Ed25519PrivateKey.from_private_bytes(raw[1:])


def sign_note(body, name, private_key):
    public = _raw_public(private_key)
    sig = private_key.sign(body.encode())
    blob = base64.b64encode(key_hash(name, public) + sig).decode()
    return body + "\n" + EM_DASH + " " + name + " " + blob + "\n"


def _raw_public(private_key):
    from cryptography.hazmat.primitives import serialization
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def open_checkpoint(note, verifier):
    """Verifies the note's signature by `verifier` (name, public key) and
    parses the checkpoint; returns (origin, size, root)."""
    name, public = verifier
    if not note.endswith("\n"):
        raise Rejected("note does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise Rejected("unsigned note")
    body, sig_lines = note[:split + 1], note[split + 2:-1].split("\n")
    verified = False
    for line in sig_lines:
        if not line.startswith(EM_DASH + " "):
            raise Rejected("malformed signature line")
        sig_name, blob = line[2:].split(" ")
        raw = base64.b64decode(blob, validate=True)
        if sig_name != name or raw[:4] != key_hash(name, public):
            continue
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
        except InvalidSignature:
            raise Rejected("signature does not verify")
        verified = True
    if not verified:
        raise Rejected("no signature by the verifier key")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise Rejected("checkpoint too short")
    origin, size_text, root_b64 = lines[0], lines[1], lines[2]
    if origin != name:
        raise Rejected("checkpoint origin is not the key's name")
    if not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
        raise Rejected("tree size is not decimal")
    root = base64.b64decode(root_b64, validate=True)
    if len(root) != 32:
        raise Rejected("root is not 32 bytes")
    return origin, int(size_text), root


def check_leaf_position(leaf_bytes, position):
    """The leaf input is the record's canonical bytes: "PLE1" then the
    big-endian u64 position (src/store/record_codec.h's documented format)."""
    if leaf_bytes[:4] != b"PLE1" or int.from_bytes(leaf_bytes[4:12], "big") != position:
        raise Rejected("leaf bytes are not the record at this position")


# --- the run ----------------------------------------------------------------

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name, fn):
        try:
            fn()
        except Rejected as e:
            self.failed += 1
            print("FAIL %s: %s" % (name, e))
            return
        self.passed += 1
        print("ok   " + name)

    def rejects(self, name, fn):
        try:
            fn()
        except Rejected as e:
            self.passed += 1
            print("ok   %s (rejected: %s)" % (name, e))
            return
        self.failed += 1
        print("FAIL %s: was accepted" % name)


def flip(data, i):
    b = bytearray(data)
    b[i % len(b)] ^= 0x01
    return bytes(b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--signing-key", required=True,
                        help="the server's key: used only to forge test checkpoints")
    parser.add_argument("--verifier-key", required=True)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--proto-dir", default=os.path.join(ROOT, "proto"))
    args = parser.parse_args()

    import grpc  # python3-grpcio

    with tempfile.TemporaryDirectory(prefix="pl-proofs-") as gen:
        protos = sorted(glob.glob(os.path.join(args.proto_dir, "partnerledger", "v1", "*.proto")))
        subprocess.run(["protoc", "-I", args.proto_dir, "--python_out=" + gen] + protos, check=True)
        sys.path.insert(0, gen)
        from partnerledger.v1 import audit_pb2 as au
        from partnerledger.v1 import event_store_pb2 as es
        from partnerledger.v1 import events_pb2 as ev

    channel = grpc.insecure_channel(args.server)

    def rpc(service, method, request, response_class):
        call = channel.unary_unary(
            "/partnerledger.v1.%s/%s" % (service, method),
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString)
        return call(request, timeout=30)

    with open(args.verifier_key) as f:
        verifier = parse_verifier_key(f.read())
    with open(args.signing_key) as f:
        server_key_name, server_private = parse_signer_key(f.read())

    run = uuid.uuid4().hex[:8]
    for i in range(args.events):
        req = es.AppendEventsRequest(stream="partner-P%s%d" % (run, i))
        e = req.events.add(event_id=str(uuid.uuid4()), payload=ev.EventPayload(
            partner_registered=ev.PartnerRegistered(legal_name="P %d" % i, country="NL")))
        e.occurred_at.FromJsonString("2026-11-29T12:00:00Z")
        rpc("EventStoreService", "AppendEvents", req, es.AppendEventsResponse)

    def checkpoint(size=None):
        req = au.GetCheckpointRequest()
        if size is not None:
            req.tree_size = size
        return rpc("AuditService", "GetCheckpoint", req, au.GetCheckpointResponse).checkpoint

    def inclusion(position, size):
        return rpc("AuditService", "GetInclusionProof",
                   au.GetInclusionProofRequest(position=position, tree_size=size),
                   au.GetInclusionProofResponse)

    def consistency(first, second):
        return rpc("AuditService", "GetConsistencyProof",
                   au.GetConsistencyProofRequest(from_size=first, to_size=second),
                   au.GetConsistencyProofResponse)

    checks = Checks()
    head = checkpoint()
    origin, n, root = open_checkpoint(head.note, verifier)
    checks.ok("head checkpoint is signed by the verifier key, origin %s, size %d" % (origin, n),
              lambda: None)

    leaves = []

    def all_inclusions():
        for p in range(1, n + 1):
            proof = inclusion(p, n)
            check_leaf_position(proof.leaf_bytes, p)
            h = leaf_hash(proof.leaf_bytes)
            if h != proof.leaf_hash:
                raise Rejected("served leaf hash differs at %d" % p)
            verify_inclusion(p - 1, n, h, list(proof.audit_path), root)
            leaves.append(h)

    checks.ok("inclusion proof of every one of the %d positions verifies" % n, all_inclusions)

    def recomputed_root():
        if mth(leaves) != root:
            raise Rejected("MTH of the leaves is not the checkpoint's root")

    checks.ok("the root recomputed from every leaf equals the signed root", recomputed_root)

    heads = {}

    def all_consistency():
        for m in range(1, n + 1):
            heads[m] = open_checkpoint(checkpoint(m).note, verifier)
            if heads[m][2] != mth(leaves[:m]):
                raise Rejected("signed root at %d is not MTH of its leaves" % m)
            proof = consistency(m, n)
            verify_consistency(m, n, heads[m][2], root, list(proof.proof))

    checks.ok("every size 1..%d is consistent with the head (signed checkpoints)" % n,
              all_consistency)

    # Tampering.
    mid = n // 2
    proof = inclusion(mid, n)
    checks.rejects("changed leaf", lambda: verify_inclusion(
        mid - 1, n, leaf_hash(flip(proof.leaf_bytes, 40)), list(proof.audit_path), root))
    path = list(proof.audit_path)
    path[1] = flip(path[1], 3)
    checks.rejects("changed audit path hash", lambda: verify_inclusion(
        mid - 1, n, leaf_hash(proof.leaf_bytes), path, root))
    checks.rejects("leaf claimed at another position",
                   lambda: check_leaf_position(proof.leaf_bytes, mid + 1))

    note = head.note
    sig_at = note.rfind(" ") + 10
    checks.rejects("changed signature", lambda: open_checkpoint(
        note[:sig_at] + ("A" if note[sig_at] != "A" else "B") + note[sig_at + 1:], verifier))
    checks.rejects("changed tree size under the signature", lambda: open_checkpoint(
        note.replace("\n%d\n" % n, "\n%d\n" % (n + 1), 1), verifier))
    other_private = ed25519.Ed25519PrivateKey.generate()
    body = note[:note.rfind("\n\n") + 1]
    checks.rejects("checkpoint signed by another key with the same name",
                   lambda: open_checkpoint(sign_note(body, server_key_name, other_private), verifier))
    foreign_body = "another.example/log\n%d\n%s\n" % (n, base64.b64encode(root).decode())
    checks.rejects("checkpoint of another origin signed by the right key",
                   lambda: open_checkpoint(sign_note(foreign_body, server_key_name, server_private),
                                           verifier))

    # A history rewritten before size m: the same key signs a checkpoint of
    # the rewritten tree; the served proof (of the real log) must not connect.
    m = max(2, n // 3)
    forged_leaves = list(leaves[:m])
    forged_leaves[m // 2] = leaf_hash(b"rewritten event")
    forged_note = sign_note("%s\n%d\n%s\n" % (origin, m, base64.b64encode(
        mth(forged_leaves)).decode()), server_key_name, server_private)
    _, _, forged_root = open_checkpoint(forged_note, verifier)
    cproof = consistency(m, n)
    checks.rejects("consistency from a checkpoint of a rewritten history",
                   lambda: verify_consistency(m, n, forged_root, root, list(cproof.proof)))
    bad = list(cproof.proof)
    bad[0] = flip(bad[0], 7)
    checks.rejects("changed consistency proof hash",
                   lambda: verify_consistency(m, n, heads[m][2], root, bad))

    print("proof checker: %d passed, %d failed" % (checks.passed, checks.failed))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
