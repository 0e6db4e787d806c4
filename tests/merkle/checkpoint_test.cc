// Checkpoint text, note keys and signed notes, including the known answers
// published with the reference implementation of the note format
// (golang.org/x/mod/sumdb/note) and the C2SP signed-note specification.
#include "merkle/checkpoint.h"

#include <string>

#include "gtest/gtest.h"
#include "merkle/merkle.h"
#include "util/sha256.h"

namespace partnerledger::merkle {
namespace {

constexpr char kGoSignerKey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+"
    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr char kGoVerifierKey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kGoText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kGoNote[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n";

TEST(SignedNote, SigningTheReferenceTextReproducesTheReferenceNote) {
  absl::StatusOr<SignerKey> k = ParseSignerKey(kGoSignerKey);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(ToHex(k->verifier.key_hash), "c74f20a3");
  EXPECT_EQ(FormatVerifierKey(k->verifier), kGoVerifierKey);
  EXPECT_EQ(FormatSignerKey(*k), kGoSignerKey);
  EXPECT_EQ(SignNote(kGoText, *k), kGoNote);
}

TEST(SignedNote, ReferenceNotesVerify) {
  absl::StatusOr<VerifierKey> v = ParseVerifierKey(kGoVerifierKey);
  ASSERT_TRUE(v.ok()) << v.status();
  absl::StatusOr<Note> n = ParseNote(kGoNote);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->body, kGoText);
  EXPECT_TRUE(VerifyNote(*n, *v).ok());
  // The specification's own example.
  absl::StatusOr<VerifierKey> spec = ParseVerifierKey(
      "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<Note> sn = ParseNote(
      "This is an example message.\n\n\xE2\x80\x94 example.com/foo "
      "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXm"
      "RKuwHjG1Yu72IneyaQM=\n");
  ASSERT_TRUE(sn.ok()) << sn.status();
  EXPECT_TRUE(VerifyNote(*sn, *spec).ok());
}

TEST(SignedNote, ChangedTextOrSignatureOrKeyIsRejected) {
  absl::StatusOr<VerifierKey> v = ParseVerifierKey(kGoVerifierKey);
  ASSERT_TRUE(v.ok());
  Note n = *ParseNote(kGoNote);
  Note changed = n;
  changed.body[3] = 'X';
  EXPECT_EQ(VerifyNote(changed, *v).code(),
            absl::StatusCode::kFailedPrecondition);
  Note bad_sig = n;
  bad_sig.signatures[0].signature[10] ^= 1;
  EXPECT_EQ(VerifyNote(bad_sig, *v).code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<SignerKey> other = GenerateKey("PeterNeumann");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(VerifyNote(n, other->verifier).code(),
            absl::StatusCode::kFailedPrecondition);
  Note unsigned_note = *ParseNote(kGoText);
  EXPECT_TRUE(unsigned_note.signatures.empty());
  EXPECT_EQ(VerifyNote(unsigned_note, *v).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SignedNote, MalformedKeysAndNotesAreInvalidArgument) {
  EXPECT_EQ(ParseVerifierKey("PeterNeumann+c74f20a4+"
                             "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // wrong key hash
  EXPECT_EQ(ParseVerifierKey("PeterNeumann+c74f20a3").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSignerKey(kGoVerifierKey).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseNote("no newline").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseNote("text\n\n- dash sig\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Checkpoint, FormatsAndParsesTheC2spBody) {
  Checkpoint c{"ledger.example/partnerledger", 42, std::string(32, '\x07')};
  const std::string body = FormatCheckpoint(c);
  EXPECT_EQ(body,
            "ledger.example/partnerledger\n42\n"
            "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n");
  absl::StatusOr<Checkpoint> back = ParseCheckpoint(body);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->origin, c.origin);
  EXPECT_EQ(back->size, 42u);
  EXPECT_EQ(back->root_hash, c.root_hash);
  // Extension lines are allowed.
  EXPECT_TRUE(ParseCheckpoint(body + "extension\n").ok());
  for (const char* bad :
       {"o\n042\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
        "o\n-1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
        "o\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw==\n", "o\n1\n",
        "o o\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
        "o\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="}) {
    EXPECT_EQ(ParseCheckpoint(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(Checkpoint, OpenChecksSignatureAndOrigin) {
  absl::StatusOr<SignerKey> k = GenerateKey("ledger.example/a");
  ASSERT_TRUE(k.ok());
  const Checkpoint c{"ledger.example/a", 7, EmptyRoot()};
  const std::string signed_text = SignNote(FormatCheckpoint(c), *k);
  absl::StatusOr<Checkpoint> opened = OpenCheckpoint(signed_text, &k->verifier);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->size, 7u);
  // Another key with the same name.
  absl::StatusOr<SignerKey> other = GenerateKey("ledger.example/a");
  EXPECT_EQ(OpenCheckpoint(signed_text, &other->verifier).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Signed by the key, but for another origin.
  const std::string foreign =
      SignNote(FormatCheckpoint({"ledger.example/b", 7, EmptyRoot()}), *k);
  EXPECT_EQ(OpenCheckpoint(foreign, &k->verifier).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A changed tree size.
  std::string changed = signed_text;
  changed.replace(changed.find("\n7\n"), 3, "\n8\n");
  EXPECT_EQ(OpenCheckpoint(changed, &k->verifier).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Unsigned: readable without a key, rejected with one.
  EXPECT_TRUE(OpenCheckpoint(FormatCheckpoint(c), nullptr).ok());
  EXPECT_EQ(OpenCheckpoint(FormatCheckpoint(c), &k->verifier).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace partnerledger::merkle
