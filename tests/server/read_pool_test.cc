#include "server/read_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "absl/synchronization/notification.h"

namespace partnerledger::server {
namespace {

TEST(ReadPool, RunsWorkOnAWorkerThreadNotTheCaller) {
  ReadPool pool(2, 8);
  absl::Notification done;
  bool on_worker = false;
  ASSERT_TRUE(pool.Submit([&] {
                    on_worker = ReadPool::OnWorkerThread();
                    done.Notify();
                  })
                  .ok());
  done.WaitForNotification();
  EXPECT_TRUE(on_worker);
  EXPECT_FALSE(ReadPool::OnWorkerThread());
}

TEST(ReadPool, AFullQueueRefusesAtOnceWithResourceExhausted) {
  std::atomic<int> ran{0};
  {
    ReadPool pool(1, 2);
    absl::Notification started, release;
    ASSERT_TRUE(pool.Submit([&] {
                      started.Notify();
                      release.WaitForNotification();
                      ++ran;
                    })
                    .ok());
    started.WaitForNotification();  // the worker is busy; the queue is empty
    ASSERT_TRUE(pool.Submit([&] { ++ran; }).ok());
    ASSERT_TRUE(pool.Submit([&] { ++ran; }).ok());
    bool refused_ran = false;
    const absl::Status full = pool.Submit([&] { refused_ran = true; });
    EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(full.message().find("read queue full (2 reads waiting)"),
              std::string_view::npos)
        << full;
    release.Notify();
    // The destructor runs what was queued, not what was refused.
    EXPECT_FALSE(refused_ran);
  }
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace partnerledger::server
