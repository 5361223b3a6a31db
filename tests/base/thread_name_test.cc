#include "base/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace crmhub {
namespace {

std::string NameInThread(const std::string& name) {
  std::string seen;
  std::thread t([&] {
    SetCurrentThreadName(name);
    char buf[64] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    seen = buf;
  });
  t.join();
  return seen;
}

TEST(ThreadNameTest, NamesTheCallingThread) {
  EXPECT_EQ(NameInThread("crmhub-qwrite"), "crmhub-qwrite");
}

TEST(ThreadNameTest, LongNamesAreCutToTheKernelsFifteenBytes) {
  EXPECT_EQ(NameInThread("in:marketplace-ozon-main"), "in:marketplace-");
}

}  // namespace
}  // namespace crmhub
