#include "daemon/pull_ahead.h"

#include <memory>
#include <utility>

namespace crmhub::daemon {

PullAhead::PullAhead(PageQueue& pages, Limits limits, OnDurable on_durable)
    : pages_(pages), limits_(limits), on_durable_(std::move(on_durable)) {}

Result<std::optional<std::string>> PullAhead::NextFrom() {
  if (!in_flight_.empty()) return pull_ahead_from_;
  if (unsaved_) return unsaved_;
  return pages_.LoadCursor();
}

Status PullAhead::Submit(const std::optional<std::string>& from,
                         std::vector<queue::NewMessage> events,
                         std::optional<std::string> next_cursor) {
  if (!events.empty()) {
    auto promise = std::make_shared<std::promise<Result<std::vector<queue::EnqueueOutcome>>>>();
    in_flight_.push_back(Page{
        .outcomes = promise->get_future(), .next_cursor = next_cursor, .events = events.size()});
    pages_.EnqueueAsync(std::move(events), [promise](Result<std::vector<queue::EnqueueOutcome>> r) {
      promise->set_value(std::move(r));
    });
    pull_ahead_from_ = next_cursor ? std::move(next_cursor) : from;
    return Status::Ok();
  }
  if (!next_cursor) return Status::Ok();
  // No events to wait for, but the pages before it must be durable first.
  CRMHUB_RETURN_IF_ERROR(Settle(/*all=*/true));
  unsaved_ = std::move(next_cursor);
  return Status::Ok();
}

size_t PullAhead::EventsInFlight() const {
  size_t n = 0;
  for (const Page& p : in_flight_) n += p.events;
  return n;
}

Status PullAhead::Settle(bool all) {
  while (!in_flight_.empty()) {
    const bool over_limits =
        in_flight_.size() >= limits_.pages || EventsInFlight() >= limits_.events;
    if (!all && !over_limits &&
        in_flight_.front().outcomes.wait_for(std::chrono::seconds(0)) !=
            std::future_status::ready) {
      break;
    }
    CRMHUB_RETURN_IF_ERROR(SettleOldest());
  }
  return Status::Ok();
}

Status PullAhead::SettleOldest() {
  Result<std::vector<queue::EnqueueOutcome>> enqueued = in_flight_.front().outcomes.get();
  std::optional<std::string> next_cursor = std::move(in_flight_.front().next_cursor);
  in_flight_.pop_front();
  if (!enqueued.ok()) {  // the cursor stays before the page
    DropInFlight();
    return enqueued.status();
  }
  if (on_durable_) on_durable_(*enqueued);
  // Only now that the events are durable may the cursor move past them.
  if (next_cursor) unsaved_ = std::move(next_cursor);
  return Status::Ok();
}

void PullAhead::DropInFlight() {
  // The later pages' enqueues finish before those pages are pulled again,
  // so a repeat is always met as a duplicate, never raced.
  for (Page& later : in_flight_) later.outcomes.wait();
  in_flight_.clear();
}

Result<std::optional<std::string>> PullAhead::SaveCursor() {
  if (!unsaved_) return std::optional<std::string>();
  CRMHUB_RETURN_IF_ERROR(pages_.SaveCursor(*unsaved_));
  std::optional<std::string> saved = std::move(unsaved_);
  unsaved_.reset();
  return saved;
}

}  // namespace crmhub::daemon
