// PullAhead's protocol, table-driven on a fake queue whose enqueues answer
// only when a step says so (in any order, ok or failed): each case is a
// script of what the source loop does and what the queue answers, with the
// cursor expected at each save.

#include "daemon/pull_ahead.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace crmhub::daemon {
namespace {

// Enqueues wait until Answer(); the saved cursor is a field.
class FakePages final : public PageQueue {
 public:
  void EnqueueAsync(std::vector<queue::NewMessage> events,
                    queue::Queue::EnqueueCallback done) override {
    std::lock_guard lock(mu_);
    pending_.push_back({events.size(), std::move(done)});
  }
  Result<std::optional<std::string>> LoadCursor() override {
    std::lock_guard lock(mu_);
    return saved;
  }
  Status SaveCursor(const std::string& cursor) override {
    std::lock_guard lock(mu_);
    if (save_fails) return Status::Unavailable("disk full");
    saved = cursor;
    ++saves;
    return Status::Ok();
  }

  // Answers the enqueue of page `page` (0-based, in submit order).
  void Answer(size_t page, bool ok) {
    queue::Queue::EnqueueCallback done;
    size_t n = 0;
    {
      std::lock_guard lock(mu_);
      ASSERT_LT(page, pending_.size());
      ASSERT_TRUE(pending_[page].done) << "page " << page << " answered twice";
      done = std::move(pending_[page].done);
      pending_[page].done = nullptr;
      n = pending_[page].events;
    }
    if (ok) {
      done(std::vector<queue::EnqueueOutcome>(n, queue::EnqueueOutcome::kAccepted));
    } else {
      done(Status::Unavailable("fsync failed"));
    }
  }
  // Every page not answered yet, in order; `fail` fails that one.
  void AnswerAll(std::optional<size_t> fail) {
    size_t count;
    {
      std::lock_guard lock(mu_);
      count = pending_.size();
    }
    for (size_t i = 0; i < count; ++i) {
      bool open;
      {
        std::lock_guard lock(mu_);
        open = static_cast<bool>(pending_[i].done);
      }
      if (open) Answer(i, !(fail && *fail == i));
    }
  }

  std::optional<std::string> saved;  // GUARDED_BY(mu_) once threads run
  bool save_fails = false;
  int saves = 0;

 private:
  struct Pending {
    size_t events;
    queue::Queue::EnqueueCallback done;
  };
  std::mutex mu_;
  std::vector<Pending> pending_;
};

std::vector<queue::NewMessage> Events(int n) {
  std::vector<queue::NewMessage> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(
        {.lane = "in.shop", .source = "shop", .idempotency_key = "k" + std::to_string(i)});
  }
  return out;
}

// One thing the source loop does or the queue answers, and what follows.
struct Step {
  enum Kind {
    kSubmit,     // pull from NextFrom() and submit a page: `cursor` ("" none), `events`
    kAnswer,     // the queue answers page `page`: ok unless `fail`
    kSettle,     // Settle(all = `all`); expect `expect` ("ok" or "error")
    kSave,       // SaveCursor(); expect "saved:X", "none" or "error"
    kNextFrom,   // NextFrom(); expect "from:X" ("from:-" for nullopt)
    kSaveFails,  // the cursor's store fails from now on (`fail`) or heals
    kStop,       // shutdown: the queue answers every page in flight (failing
                 // `page` when `fail`) while Settle(true) waits; expect as
                 // kSettle, then a save expects `then`
  };
  Kind kind;
  std::string cursor = "";
  int events = 1;
  size_t page = 0;
  bool fail = false;
  bool all = false;
  std::string expect = "";
  std::string then = "";
};

struct Case {
  const char* name;
  std::optional<std::string> saved_before;
  PullAhead::Limits limits;
  std::vector<Step> steps;
  size_t durable_events;  // reported through OnDurable by the end
  size_t in_flight_after;
};

using S = Step;

// The case's name, not its bytes, in gtest's and ctest's listings.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"TheFirstPullStartsFromTheSavedCursorThenPullsAhead",
       "s0",
       {},
       {{.kind = S::kNextFrom, .expect = "from:s0"},
        {.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kNextFrom, .expect = "from:1"},  // ahead of durable
        {.kind = S::kSubmit, .cursor = ""},          // a page without a cursor
        {.kind = S::kNextFrom, .expect = "from:1"},  // pulls from where it was
        {.kind = S::kSave, .expect = "none"},        // nothing durable yet
        {.kind = S::kAnswer, .page = 0},
        {.kind = S::kAnswer, .page = 1},
        {.kind = S::kSettle, .expect = "ok"},
        {.kind = S::kSave, .expect = "saved:1"}},
       2,
       0},
      {"TheCursorIsSavedOnlyAfterEveryEarlierPageIsDurable",
       std::nullopt,
       {},
       {{.kind = S::kNextFrom, .expect = "from:-"},
        {.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kSubmit, .cursor = "2", .events = 3},
        {.kind = S::kSubmit, .cursor = "3"},
        {.kind = S::kAnswer, .page = 2},  // the newest page is durable first
        {.kind = S::kAnswer, .page = 1},
        {.kind = S::kSettle, .expect = "ok"},
        {.kind = S::kSave, .expect = "none"},  // page 1 is not: no cursor moves
        {.kind = S::kNextFrom, .expect = "from:3"},
        {.kind = S::kAnswer, .page = 0},
        {.kind = S::kSettle, .expect = "ok"},
        {.kind = S::kSave, .expect = "saved:3"},
        {.kind = S::kSave, .expect = "none"}},  // saved once
       5,
       0},
      {"OnlyThePagesUpToTheFirstUnansweredOneMoveTheCursor",
       std::nullopt,
       {},
       {{.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kSubmit, .cursor = "2"},
        {.kind = S::kSubmit, .cursor = "3"},
        {.kind = S::kAnswer, .page = 0},
        {.kind = S::kAnswer, .page = 2},
        {.kind = S::kSettle, .expect = "ok"},
        {.kind = S::kSave, .expect = "saved:1"},
        {.kind = S::kNextFrom, .expect = "from:3"}},
       1,
       2},
      {"AFailedPageBlocksTheCursorAndDropsTheLaterPages",
       "s0",
       {},
       {{.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kSubmit, .cursor = "2"},
        {.kind = S::kSubmit, .cursor = "3"},
        {.kind = S::kAnswer, .page = 0},
        {.kind = S::kAnswer, .page = 2},  // durable, but after the failed one
        {.kind = S::kAnswer, .page = 1, .fail = true},
        {.kind = S::kSettle, .expect = "error"},
        {.kind = S::kSave, .expect = "saved:1"},     // before the failed page
        {.kind = S::kNextFrom, .expect = "from:1"},  // and pulled again from there
        {.kind = S::kSubmit, .cursor = "2"},
        {.kind = S::kAnswer, .page = 3},
        {.kind = S::kSettle, .all = true, .expect = "ok"},
        {.kind = S::kSave, .expect = "saved:2"}},
       2,
       0},
      {"AFailedFirstPageKeepsTheSavedCursor",
       "s0",
       {},
       {{.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kAnswer, .page = 0, .fail = true},
        {.kind = S::kSettle, .expect = "error"},
        {.kind = S::kSave, .expect = "none"},
        {.kind = S::kNextFrom, .expect = "from:s0"}},
       0,
       0},
      {"AnEmptyPageWithACursorWaitsForThePagesInFlight",
       std::nullopt,
       {},
       {{.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kAnswer, .page = 0},
        {.kind = S::kSubmit, .cursor = "2", .events = 0},  // settles page 0 first
        {.kind = S::kSave, .expect = "saved:2"},
        {.kind = S::kSubmit, .cursor = "", .events = 0},  // nothing at all
        {.kind = S::kSave, .expect = "none"}},
       1,
       0},
      {"OverThePageLimitSettleTakesTheOldest",
       std::nullopt,
       {.pages = 2, .events = 100},
       {{.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kSubmit, .cursor = "2"},
        {.kind = S::kAnswer, .page = 0},
        {.kind = S::kSettle, .expect = "ok"},  // at the limit: page 0 settled; page 1 waits
        {.kind = S::kSave, .expect = "saved:1"}},
       1,
       1},
      {"ACursorThatCouldNotBeSavedStaysWhereThePullResumes",
       "s0",
       {},
       {{.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kAnswer, .page = 0},
        {.kind = S::kSettle, .expect = "ok"},
        {.kind = S::kSaveFails, .fail = true},
        {.kind = S::kSave, .expect = "error"},
        {.kind = S::kNextFrom, .expect = "from:1"},
        {.kind = S::kSaveFails, .fail = false},
        {.kind = S::kSave, .expect = "saved:1"}},
       1,
       0},
      {"ShutdownWithPagesInFlightSavesTheLastDurableCursor",
       "s0",
       {},
       {{.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kSubmit, .cursor = "2"},
        {.kind = S::kSubmit, .cursor = "3"},
        {.kind = S::kAnswer, .page = 0},
        {.kind = S::kStop, .expect = "ok", .then = "saved:3"}},
       3,
       0},
      {"ShutdownWithAFailingPageInFlightSavesTheCursorBeforeIt",
       "s0",
       {},
       {{.kind = S::kSubmit, .cursor = "1"},
        {.kind = S::kSubmit, .cursor = "2"},
        {.kind = S::kSubmit, .cursor = "3"},
        {.kind = S::kStop, .page = 1, .fail = true, .expect = "error", .then = "saved:1"}},
       1,
       0},
      {"ShutdownWithNothingInFlightSavesNothingNew",
       "s0",
       {},
       {{.kind = S::kStop, .expect = "ok", .then = "none"}},
       0,
       0},
  };
  return cases;
}

class PullAheadTest : public ::testing::TestWithParam<Case> {};

std::string Describe(const Status& st) { return st.ok() ? "ok" : "error"; }
std::string Describe(const Result<std::optional<std::string>>& saved) {
  if (!saved.ok()) return "error";
  return *saved ? "saved:" + **saved : "none";
}

TEST_P(PullAheadTest, FollowsTheScript) {
  const Case& c = GetParam();
  FakePages pages;
  pages.saved = c.saved_before;
  size_t durable = 0;
  PullAhead ahead(pages, c.limits,
                  [&](const std::vector<queue::EnqueueOutcome>& o) { durable += o.size(); });
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const Step& s = c.steps[i];
    SCOPED_TRACE("step " + std::to_string(i));
    switch (s.kind) {
      case Step::kSubmit: {
        Result<std::optional<std::string>> from = ahead.NextFrom();
        ASSERT_TRUE(from.ok());
        std::optional<std::string> next;
        if (!s.cursor.empty()) next = s.cursor;
        ASSERT_TRUE(ahead.Submit(*from, Events(s.events), next).ok());
        break;
      }
      case Step::kAnswer:
        pages.Answer(s.page, !s.fail);
        break;
      case Step::kSettle:
        EXPECT_EQ(Describe(ahead.Settle(s.all)), s.expect);
        break;
      case Step::kSave:
        EXPECT_EQ(Describe(ahead.SaveCursor()), s.expect);
        break;
      case Step::kNextFrom: {
        Result<std::optional<std::string>> from = ahead.NextFrom();
        ASSERT_TRUE(from.ok());
        EXPECT_EQ("from:" + from->value_or("-"), s.expect);
        break;
      }
      case Step::kSaveFails:
        pages.save_fails = s.fail;
        break;
      case Step::kStop: {
        // The queue answers while Settle(true) waits, as the engine does.
        std::optional<size_t> fail;
        if (s.fail) fail = s.page;
        std::thread engine([&] { pages.AnswerAll(fail); });
        EXPECT_EQ(Describe(ahead.Settle(/*all=*/true)), s.expect);
        engine.join();
        EXPECT_EQ(Describe(ahead.SaveCursor()), s.then);
        break;
      }
    }
  }
  EXPECT_EQ(durable, c.durable_events);
  EXPECT_EQ(ahead.pages_in_flight(), c.in_flight_after);
}

INSTANTIATE_TEST_SUITE_P(Protocol, PullAheadTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return std::string(param.param.name);
                         });

// A failed page is dropped with the pages after it only once their
// enqueues answered: a page pulled again is then always met as a
// duplicate, never raced with its first enqueue.
TEST(PullAheadDropTest, WaitsForTheLaterPagesBeforeDroppingThem) {
  FakePages pages;
  PullAhead ahead(pages, {});
  ASSERT_TRUE(ahead.Submit(std::nullopt, Events(1), "1").ok());
  ASSERT_TRUE(ahead.Submit("1", Events(1), "2").ok());
  pages.Answer(0, /*ok=*/false);
  std::future<Status> settled =
      std::async(std::launch::async, [&] { return ahead.Settle(/*all=*/false); });
  // Still waiting for page 1 (a short real wait: what is checked is that it
  // does not return, which no clock can show).
  EXPECT_EQ(settled.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout);
  pages.Answer(1, /*ok=*/true);
  EXPECT_FALSE(settled.get().ok());
  EXPECT_EQ(ahead.pages_in_flight(), 0u);
  EXPECT_FALSE(ahead.has_unsaved());
}

}  // namespace
}  // namespace crmhub::daemon
