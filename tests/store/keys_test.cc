#include "store/keys.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace partnerledger::store {
namespace {

TEST(EventKey, IsEightBytesBigEndian) {
  EXPECT_EQ(EventKey(0x0102030405060708ULL),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(EventKey(1), std::string("\0\0\0\0\0\0\0\x01", 8));
}

TEST(EventKey, BytewiseOrderIsNumericOrder) {
  const std::vector<uint64_t> ascending = {
      0, 1, 255, 256, 65535, 65536, 1ULL << 40, UINT64_MAX - 1, UINT64_MAX};
  for (size_t i = 0; i + 1 < ascending.size(); ++i) {
    // std::string compares as unsigned char, like RocksDB's bytewise
    // comparator.
    EXPECT_LT(EventKey(ascending[i]).compare(EventKey(ascending[i + 1])), 0)
        << ascending[i] << " vs " << ascending[i + 1];
  }
}

TEST(EventKey, DecodeRoundTrips) {
  for (uint64_t p : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256},
                     uint64_t{1} << 40, UINT64_MAX}) {
    std::optional<uint64_t> d = DecodeEventKey(EventKey(p));
    ASSERT_TRUE(d.has_value()) << p;
    EXPECT_EQ(*d, p);
  }
}

TEST(EventKey, DecodeRejectsWrongSizes) {
  EXPECT_EQ(DecodeEventKey(""), std::nullopt);
  EXPECT_EQ(DecodeEventKey(std::string(7, '\0')), std::nullopt);
  EXPECT_EQ(DecodeEventKey(std::string(9, '\0')), std::nullopt);
}

TEST(BigEndian64, PutThenGetRoundTrips) {
  std::string s = "xy";
  PutBigEndian64(&s, 0xdeadbeefcafef00dULL);
  ASSERT_EQ(s.size(), 10u);
  EXPECT_EQ(s.substr(0, 2), "xy");
  EXPECT_EQ(GetBigEndian64(std::string_view(s).substr(2)),
            0xdeadbeefcafef00dULL);
}

TEST(StreamKey, LayoutIsNameNulRevision) {
  EXPECT_EQ(StreamKey("deal-1", 2),
            std::string("deal-1\0\0\0\0\0\0\0\0\x02", 15));
}

TEST(StreamKey, DecodeRoundTrips) {
  const std::string k = StreamKey("agreement-a.b:c", 1ULL << 33);
  std::optional<StreamKeyParts> p = DecodeStreamKey(k);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->stream, "agreement-a.b:c");
  EXPECT_EQ(p->revision, 1ULL << 33);
}

TEST(StreamKey, DecodeRejectsKeysWithoutSeparatorOrTooShort) {
  EXPECT_EQ(DecodeStreamKey(""), std::nullopt);
  // Nine bytes: room for the separator and revision but no name.
  EXPECT_EQ(DecodeStreamKey(std::string(9, '\0')), std::nullopt);
  // Right length, but no NUL before the revision.
  EXPECT_EQ(DecodeStreamKey(std::string("ab") + EventKey(3)), std::nullopt);
}

TEST(StreamKey, RevisionsOfAStreamSortNumerically) {
  EXPECT_LT(StreamKey("deal-1", 1), StreamKey("deal-1", 255));
  EXPECT_LT(StreamKey("deal-1", 255), StreamKey("deal-1", 256));
  EXPECT_LT(StreamKey("deal-1", 256), StreamKey("deal-1", 1ULL << 40));
}

TEST(StreamUpperBound, BoundsEveryRevisionOfTheStream) {
  const std::string lo = StreamKey("deal-1", 0);
  const std::string hi = StreamUpperBound("deal-1");
  for (uint64_t r : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 40, UINT64_MAX}) {
    const std::string k = StreamKey("deal-1", r);
    EXPECT_LE(lo, k) << r;
    EXPECT_LT(k, hi) << r;
  }
}

TEST(StreamUpperBound, ExcludesStreamsSharingThePrefix) {
  const std::string lo = StreamKey("deal-1", 0);
  const std::string hi = StreamUpperBound("deal-1");
  // A longer name that starts with the stream's name.
  for (const std::string& other :
       {std::string("deal-10"), std::string("deal-1x"), std::string("deal-1-"),
        std::string("deal-1\x01", 7), std::string("deal-1\x01z", 8)}) {
    for (uint64_t r : {uint64_t{0}, UINT64_MAX}) {
      const std::string k = StreamKey(other, r);
      EXPECT_FALSE(lo <= k && k < hi) << other << " rev " << r;
    }
  }
  // And the neighbour just below.
  EXPECT_LT(StreamKey("deal-0", UINT64_MAX), lo);
}

TEST(StateHistoryKey, OrdersByPositionWithinAKey) {
  EXPECT_LT(StateHistoryKey("k", 5), StateHistoryKey("k", 9));
  EXPECT_LT(StateHistoryKey("k", 255), StateHistoryKey("k", 256));
  EXPECT_LT(StateHistoryKey("k", 256), StateHistoryKey("k", 1ULL << 40));
  // All of "k"'s history sorts before a longer key sharing the prefix.
  EXPECT_LT(StateHistoryKey("k", UINT64_MAX), StateHistoryKey("k0", 0));
  EXPECT_EQ(StateHistoryKey("k", 1), std::string("k\0\0\0\0\0\0\0\0\x01", 10));
}

TEST(EventIdEntry, EncodeDecodeRoundTrips) {
  EventIdEntry e;
  e.position = (1ULL << 40) + 7;
  e.content_digest = std::string(32, '\xab');
  e.content_digest[0] = '\0';
  const std::string bytes = EncodeEventIdEntry(e);
  ASSERT_EQ(bytes.size(), 40u);
  std::optional<EventIdEntry> d = DecodeEventIdEntry(bytes);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->position, e.position);
  EXPECT_EQ(d->content_digest, e.content_digest);
}

TEST(EventIdEntry, DecodeRejectsWrongSizes) {
  EXPECT_EQ(DecodeEventIdEntry(""), std::nullopt);
  EXPECT_EQ(DecodeEventIdEntry(std::string(8, '\0')), std::nullopt);
  EXPECT_EQ(DecodeEventIdEntry(std::string(39, '\0')), std::nullopt);
  EXPECT_EQ(DecodeEventIdEntry(std::string(41, '\0')), std::nullopt);
}

}  // namespace
}  // namespace partnerledger::store
