#pragma once
// PullAhead: a source loop's pull-ahead and cursor-commit protocol.
//
// During a backlog the pull of page N+1 overlaps the commit and fsync of
// page N (a marketplace page is a network round trip; an enqueue is a disk
// flush; neither waits for the other). Pull() is a function of the cursor
// it is given, so pulling ahead is read-only. The one rule:
//
//   the cursor moves past a page only once its events and those of every
//   page before it are durable.
//
// When a page's enqueue fails, the pages pulled after it are dropped (after
// their enqueues answered, so that a repeat is always met as a duplicate,
// never raced) and the next pull starts again from the last durable cursor;
// their events, if they did become durable, are repeats that idempotency
// absorbs. A saved cursor is never ahead of durable events; it may lag them
// (a crash then repeats a few pages, which dedup absorbs).
//
//   loop:  from = NextFrom()           after the newest page in flight, else
//                                      the durable cursor, else the saved one
//          page = Pull(from)
//          Settle(all = !page.ok())    pages whose enqueue answered, in order
//          Submit(from, page)          events to the queue, or a bare cursor
//          SaveCursor()                when the caller decides to (it may
//                                      wait for a second's worth of pages)
//   stop:  Settle(all); SaveCursor()
//
// Thread-safety: one thread (the adapter's source loop) calls everything.
// The queue's completions only fulfil promises this object waits on.

#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "queue/queue.h"

namespace crmhub::daemon {

// What PullAhead needs of the queue: the pages' events and one saved cursor.
class PageQueue {
 public:
  virtual ~PageQueue() = default;
  // As queue::Queue::EnqueueAsync.
  virtual void EnqueueAsync(std::vector<queue::NewMessage> events,
                            queue::Queue::EnqueueCallback done) = 0;
  // The saved cursor; nullopt: none yet (pull from the beginning).
  virtual Result<std::optional<std::string>> LoadCursor() = 0;
  // Durably saves the cursor.
  virtual Status SaveCursor(const std::string& cursor) = 0;
};

// The production PageQueue: the queue's events and its state key `key`.
class QueuePages final : public PageQueue {
 public:
  // `queue` must outlive this object.
  QueuePages(queue::Queue& queue, std::string key) : queue_(queue), key_(std::move(key)) {}
  void EnqueueAsync(std::vector<queue::NewMessage> events,
                    queue::Queue::EnqueueCallback done) override {
    queue_.EnqueueAsync(std::move(events), std::move(done));
  }
  Result<std::optional<std::string>> LoadCursor() override { return queue_.GetState(key_); }
  Status SaveCursor(const std::string& cursor) override { return queue_.PutState(key_, cursor); }

 private:
  queue::Queue& queue_;
  const std::string key_;
};

class PullAhead {
 public:
  struct Limits {
    // Pages, and their events, whose enqueue may be unanswered at once;
    // past either, Settle waits for the oldest.
    size_t pages = 8;
    size_t events = 2048;
  };
  // Called with each page's outcomes once it is durable, oldest first.
  using OnDurable = std::function<void(const std::vector<queue::EnqueueOutcome>&)>;

  // `pages` must outlive this object. Destroying it with pages in flight
  // drops them (their completions hold only their own promises): call
  // Settle(true) first to keep what became durable.
  PullAhead(PageQueue& pages, Limits limits, OnDurable on_durable = {});
  PullAhead(const PullAhead&) = delete;
  PullAhead& operator=(const PullAhead&) = delete;

  // Where the next pull starts: after the newest page in flight; else the
  // newest durable cursor not saved yet; else the saved cursor.
  Result<std::optional<std::string>> NextFrom();

  // Hands over a page pulled from `from`. With events: they are enqueued
  // (asynchronously) and the page waits in flight; its cursor (or `from`,
  // when it has none) is where the next pull starts. Without events but
  // with a cursor: every page in flight is settled first, then the cursor
  // is durable at once. Neither: nothing happens.
  // An error is a failed earlier page (see Settle): the cursor stays before
  // it, and this page is not taken.
  Status Submit(const std::optional<std::string>& from, std::vector<queue::NewMessage> events,
                std::optional<std::string> next_cursor);

  // Settles, oldest first, the pages whose enqueue has answered, stopping at
  // the first still in flight; with `all`, or while over the limits, waits
  // for it instead. A failed page: the later pages are waited for and
  // dropped, the cursor stays before the failed page, and its error is
  // returned.
  Status Settle(bool all);

  // Saves the durable cursor if it moved since the last save; returns the
  // cursor saved, or nullopt when there was nothing new. On error it stays
  // unsaved (and NextFrom still starts from it).
  Result<std::optional<std::string>> SaveCursor();

  size_t pages_in_flight() const { return in_flight_.size(); }
  // A durable cursor not saved yet.
  bool has_unsaved() const { return unsaved_.has_value(); }

 private:
  struct Page {
    std::future<Result<std::vector<queue::EnqueueOutcome>>> outcomes;
    std::optional<std::string> next_cursor;
    size_t events = 0;
  };
  size_t EventsInFlight() const;
  Status SettleOldest();
  void DropInFlight();

  PageQueue& pages_;
  const Limits limits_;
  const OnDurable on_durable_;
  std::deque<Page> in_flight_;
  std::optional<std::string> pull_ahead_from_;  // where a pull starts while pages are in flight
  std::optional<std::string> unsaved_;          // durable, not saved yet
};

}  // namespace crmhub::daemon
