#include "merkle/checkpoint.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "util/sha256.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace partnerledger::merkle {
namespace {

constexpr char kEd25519Type = '\x01';
constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;
constexpr size_t kKeyHashBytes = 4;
constexpr size_t kOriginBytesMax = 255;
// U+2014 EM DASH and a space: the start of every signature line.
constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Base64 that only accepts its own canonical (padded, standard) encoding.
bool StrictBase64(std::string_view text, std::string* out) {
  if (!absl::Base64Unescape(AbslView(text), out)) return false;
  return absl::Base64Escape(*out) == text;
}

std::string KeyHash(std::string_view name, std::string_view public_key) {
  Sha256 h;
  h.Update(name);
  h.Update("\n");
  h.Update(std::string_view(&kEd25519Type, 1));
  h.Update(public_key);
  return DigestBytes(h.Finish()).substr(0, kKeyHashBytes);
}

absl::StatusOr<std::string> PublicKeyOf(std::string_view seed) {
  Pkey key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  if (key == nullptr) return absl::InvalidArgumentError("not an Ed25519 key");
  std::string pub(kEd25519KeyBytes, '\0');
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(
          key.get(), reinterpret_cast<unsigned char*>(pub.data()), &len) != 1 ||
      len != kEd25519KeyBytes) {
    return absl::InternalError("Ed25519 public key derivation failed");
  }
  return pub;
}

VerifierKey MakeVerifier(std::string_view name, std::string public_key) {
  VerifierKey v;
  v.name = std::string(name);
  v.key_hash = KeyHash(name, public_key);
  v.public_key = std::move(public_key);
  return v;
}

// "name+hash8+base64(type||key)" after an optional prefix; the key bytes.
absl::StatusOr<std::pair<std::string, std::string>> ParseKeyFields(
    std::string_view text, std::string_view what) {
  // The base64 key may itself contain '+'.
  std::vector<std::string_view> parts = Split(text, absl::MaxSplits('+', 2));
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(Cat(what, ": expected name+keyhash+key"));
  }
  if (absl::Status s = ValidOrigin(parts[0]); !s.ok()) {
    return absl::InvalidArgumentError(Cat(what, ": ", s.message()));
  }
  std::string raw;
  if (!StrictBase64(parts[2], &raw) || raw.size() != 1 + kEd25519KeyBytes ||
      raw[0] != kEd25519Type) {
    return absl::InvalidArgumentError(
        Cat(what, ": not a base64 Ed25519 key (type 0x01)"));
  }
  std::string hash;
  if (parts[1].size() != 2 * kKeyHashBytes || !FromHex(parts[1], &hash)) {
    return absl::InvalidArgumentError(
        Cat(what, ": key hash is not 8 hex digits"));
  }
  return std::make_pair(std::string(parts[0]) + "\n" + hash, raw.substr(1));
}

}  // namespace

absl::Status ValidOrigin(std::string_view origin) {
  if (origin.empty() || origin.size() > kOriginBytesMax) {
    return absl::InvalidArgumentError("origin: 1 to 255 bytes");
  }
  for (char c : origin) {
    if (c <= ' ' || c > '~' || c == '+') {
      return absl::InvalidArgumentError(
          "origin: printable ASCII without spaces or '+'");
    }
  }
  return absl::OkStatus();
}

std::string FormatCheckpoint(const Checkpoint& c) {
  return Cat(c.origin, "\n", c.size, "\n", absl::Base64Escape(c.root_hash),
             "\n");
}

absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view body) {
  if (body.empty() || body.back() != '\n') {
    return absl::InvalidArgumentError(
        "checkpoint: does not end with a newline");
  }
  std::vector<std::string_view> lines =
      Split(body.substr(0, body.size() - 1), '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(
        "checkpoint: needs an origin, a tree size and a root hash line");
  }
  Checkpoint c;
  if (absl::Status s = ValidOrigin(lines[0]); !s.ok()) {
    return absl::InvalidArgumentError(Cat("checkpoint ", s.message()));
  }
  c.origin = std::string(lines[0]);
  const std::string_view size = lines[1];
  if (size.empty() || (size.size() > 1 && size[0] == '0') ||
      size.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(AbslView(size), &c.size)) {
    return absl::InvalidArgumentError(
        "checkpoint: tree size is not a decimal number");
  }
  if (!StrictBase64(lines[2], &c.root_hash) ||
      c.root_hash.size() != kSha256Bytes) {
    return absl::InvalidArgumentError(
        "checkpoint: root hash is not 32 bytes of base64");
  }
  return c;
}

absl::StatusOr<SignerKey> GenerateKey(std::string_view name) {
  RETURN_IF_ERROR(ValidOrigin(name));
  SignerKey k;
  k.name = std::string(name);
  k.seed.resize(kEd25519KeyBytes);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(k.seed.data()),
                 static_cast<int>(k.seed.size())) != 1) {
    return absl::UnavailableError("no randomness for a new key");
  }
  ASSIGN_OR_RETURN(std::string pub, PublicKeyOf(k.seed));
  k.verifier = MakeVerifier(name, std::move(pub));
  return k;
}

std::string FormatSignerKey(const SignerKey& k) {
  return Cat("PRIVATE+KEY+", k.name, "+", ToHex(k.verifier.key_hash), "+",
             absl::Base64Escape(std::string(1, kEd25519Type) + k.seed));
}

std::string FormatVerifierKey(const VerifierKey& k) {
  return Cat(k.name, "+", ToHex(k.key_hash), "+",
             absl::Base64Escape(std::string(1, kEd25519Type) + k.public_key));
}

absl::StatusOr<SignerKey> ParseSignerKey(std::string_view text) {
  text = StripAsciiWhitespace(text);
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return absl::InvalidArgumentError(
        "signing key: does not start with PRIVATE+KEY+");
  }
  ASSIGN_OR_RETURN(auto fields,
                   ParseKeyFields(text.substr(kPrefix.size()), "signing key"));
  SignerKey k;
  const size_t nl = fields.first.find('\n');
  k.name = fields.first.substr(0, nl);
  k.seed = fields.second;
  ASSIGN_OR_RETURN(std::string pub, PublicKeyOf(k.seed));
  k.verifier = MakeVerifier(k.name, std::move(pub));
  if (k.verifier.key_hash != fields.first.substr(nl + 1)) {
    return absl::InvalidArgumentError(
        "signing key: key hash does not match the key");
  }
  return k;
}

absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text) {
  text = StripAsciiWhitespace(text);
  ASSIGN_OR_RETURN(auto fields, ParseKeyFields(text, "verifier key"));
  const size_t nl = fields.first.find('\n');
  VerifierKey k = MakeVerifier(fields.first.substr(0, nl), fields.second);
  if (k.key_hash != fields.first.substr(nl + 1)) {
    return absl::InvalidArgumentError(
        "verifier key: key hash does not match the key");
  }
  return k;
}

std::string SignNote(std::string_view body, const SignerKey& key) {
  Pkey pkey(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(key.seed.data()),
      key.seed.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  std::string sig(kEd25519SignatureBytes, '\0');
  size_t len = sig.size();
  // A key that parsed cannot fail to sign; if the crypto library does, a
  // checkpoint must not be served with a broken signature.
  if (pkey == nullptr || ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) !=
          1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, reinterpret_cast<const unsigned char*>(body.data()),
                     body.size()) != 1 ||
      len != kEd25519SignatureBytes) {
    std::abort();
  }
  return Cat(body, "\n", kSignaturePrefix, key.name, " ",
             absl::Base64Escape(key.verifier.key_hash + sig), "\n");
}

absl::StatusOr<Note> ParseNote(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("note: does not end with a newline");
  }
  Note note;
  const size_t split = text.rfind("\n\n");
  if (split == std::string_view::npos) {
    note.body = std::string(text);  // unsigned
    return note;
  }
  note.body = std::string(text.substr(0, split + 1));
  std::string_view sigs = text.substr(split + 2);
  sigs.remove_suffix(1);
  for (std::string_view line : Split(sigs, '\n')) {
    if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
      return absl::InvalidArgumentError(
          "note: a signature line does not start with an em dash and a space");
    }
    line.remove_prefix(kSignaturePrefix.size());
    std::vector<std::string_view> parts = Split(line, ' ');
    std::string raw;
    if (parts.size() != 2 || ValidOrigin(parts[0]).ok() == false ||
        !StrictBase64(parts[1], &raw) || raw.size() <= kKeyHashBytes) {
      return absl::InvalidArgumentError("note: malformed signature line");
    }
    note.signatures.push_back(NoteSignature{std::string(parts[0]),
                                            raw.substr(0, kKeyHashBytes),
                                            raw.substr(kKeyHashBytes)});
  }
  return note;
}

absl::Status VerifyNote(const Note& note, const VerifierKey& key) {
  Pkey pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(key.public_key.data()),
      key.public_key.size()));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError("verifier key: not an Ed25519 key");
  }
  for (const NoteSignature& s : note.signatures) {
    if (s.name != key.name || s.key_hash != key.key_hash) continue;
    MdCtx ctx(EVP_MD_CTX_new());
    if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr,
                                               nullptr, pkey.get()) != 1) {
      return absl::InternalError("Ed25519 verification unavailable");
    }
    if (s.signature.size() == kEd25519SignatureBytes &&
        EVP_DigestVerify(
            ctx.get(),
            reinterpret_cast<const unsigned char*>(s.signature.data()),
            s.signature.size(),
            reinterpret_cast<const unsigned char*>(note.body.data()),
            note.body.size()) == 1) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        Cat("the signature by ", key.name,
            " does not verify: the note was "
            "changed or not signed by this key"));
  }
  return absl::FailedPreconditionError(Cat(
      "the note has no signature by the key ", key.name, "+",
      ToHex(key.key_hash), note.signatures.empty() ? " (it is unsigned)" : ""));
}

absl::StatusOr<Checkpoint> OpenCheckpoint(std::string_view text,
                                          const VerifierKey* key) {
  ASSIGN_OR_RETURN(Note note, ParseNote(text));
  if (key != nullptr) {
    RETURN_IF_ERROR(VerifyNote(note, *key));
  }
  ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpoint(note.body));
  if (key != nullptr && c.origin != key->name) {
    return absl::FailedPreconditionError(Cat("checkpoint origin ", c.origin,
                                             " is not the key's origin ",
                                             key->name));
  }
  return c;
}

}  // namespace partnerledger::merkle
