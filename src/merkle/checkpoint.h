// Checkpoints: the C2SP tlog-checkpoint text of a tree head, signed as a
// C2SP signed-note with Ed25519 (OpenSSL EVP). Pure apart from key
// generation's randomness; no I/O.
//
// A checkpoint body (c2sp.org/tlog-checkpoint):
//   <origin>\n<tree size, decimal>\n<base64 root hash>\n
// A signed note (c2sp.org/signed-note): the body, a blank line, then one
// line per signature:
//   \u2014 <key name> <base64(key hash (4 bytes) || Ed25519 signature)>\n
// where key hash = SHA-256(key name || "\n" || 0x01 || public key)[:4] and
// the signature covers the body's bytes. The key name is the origin.
//
// Keys are text in the note-key form (golang.org/x/mod/sumdb/note):
//   signer:   PRIVATE+KEY+<name>+<key hash, 8 hex>+<base64(0x01 || seed)>
//   verifier: <name>+<key hash, 8 hex>+<base64(0x01 || public key)>
#ifndef PARTNERLEDGER_MERKLE_CHECKPOINT_H_
#define PARTNERLEDGER_MERKLE_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace partnerledger::merkle {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  std::string root_hash;  // 32 bytes
};

// The body text. REQUIRES: a valid origin (ValidOrigin) and a 32-byte root.
std::string FormatCheckpoint(const Checkpoint& c);
// INVALID_ARGUMENT naming what is malformed. Extension lines after the root
// are allowed and ignored.
absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view body);

// Origins and key names: 1..255 printable ASCII bytes, no spaces, no '+'.
absl::Status ValidOrigin(std::string_view origin);

struct VerifierKey {
  std::string name;
  std::string public_key;  // 32 bytes
  std::string key_hash;    // 4 bytes
};

struct SignerKey {
  std::string name;
  std::string seed;  // 32 bytes: the Ed25519 private key
  VerifierKey verifier;
};

// A new Ed25519 key pair named `name` (INVALID_ARGUMENT for a bad name).
absl::StatusOr<SignerKey> GenerateKey(std::string_view name);
std::string FormatSignerKey(const SignerKey& k);
std::string FormatVerifierKey(const VerifierKey& k);
// Surrounding whitespace is ignored. INVALID_ARGUMENT when malformed or when
// the key hash does not match the key.
absl::StatusOr<SignerKey> ParseSignerKey(std::string_view text);
absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text);

struct NoteSignature {
  std::string name;
  std::string key_hash;   // 4 bytes
  std::string signature;  // 64 bytes for Ed25519
};

struct Note {
  std::string body;  // ends with "\n"
  std::vector<NoteSignature> signatures;
};

// `body` followed by the blank line and `key`'s signature line.
// REQUIRES: body ends with "\n".
std::string SignNote(std::string_view body, const SignerKey& key);
// A note's text, signed or not (no signature lines: the body alone).
absl::StatusOr<Note> ParseNote(std::string_view text);
// OK when one of the note's signatures is `key`'s (same name and key hash)
// and verifies; FAILED_PRECONDITION otherwise (none by that key, or a bad
// signature).
absl::Status VerifyNote(const Note& note, const VerifierKey& key);

// Parses a checkpoint note and checks it: with `key`, a valid signature by
// it and an origin equal to the key's name (FAILED_PRECONDITION otherwise).
// Without a key the body is only parsed.
absl::StatusOr<Checkpoint> OpenCheckpoint(std::string_view text,
                                          const VerifierKey* key);

}  // namespace partnerledger::merkle

#endif  // PARTNERLEDGER_MERKLE_CHECKPOINT_H_
