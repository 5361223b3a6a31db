#include "crm/rest_sink.h"

#include <fmt/format.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/thread_annotations.h"
#include "mapping/model/model.h"

namespace crmhub::crm {
namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void AppendPercent(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xf]);
}

// The server's own words from an error body {"error": .., "detail": ..};
// falls back to the raw body's start.
std::string ServerMessage(const net::OutboundResponse& r) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    std::string error = j.value("error", std::string());
    std::string detail = j.value("detail", std::string());
    if (!error.empty() || !detail.empty()) {
      return detail.empty() ? error : (error.empty() ? detail : error + ": " + detail);
    }
  }
  std::string snippet = r.body.substr(0, 256);
  for (char& c : snippet) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return snippet;
}

}  // namespace

std::string IdempotencyKeyHeader(std::string_view event_key, size_t entity_index) {
  std::string out;
  out.reserve(event_key.size() + 4);
  for (unsigned char c : event_key) {
    if (c <= 0x20 || c >= 0x7f || c == '%') {
      AppendPercent(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out += '/';
  out += std::to_string(entity_index);
  return out;
}

std::string EncodePathSegment(std::string_view segment) {
  std::string out;
  for (unsigned char c : segment) {
    if (Unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      AppendPercent(out, c);
    }
  }
  return out;
}

std::string EntityUrl(std::string_view base_url, const model::Entity& entity) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return fmt::format("{}/v1/entities/{}/{}/{}", base_url, model::KindName(entity.kind),
                     EncodePathSegment(entity.source), EncodePathSegment(entity.external_id));
}

RestCrmSink::RestCrmSink(net::HttpClient& client, Clock& clock, RestSinkOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

net::OutboundRequest RestCrmSink::BuildRequest(const SinkEvent& event, size_t index) const {
  const model::Entity& e = event.entities[index];
  nlohmann::json body = model::ToJson(e);
  // The CRM core must merge these fields into what it holds and create
  // nothing when it holds nothing (model::Entity::update_only).
  if (e.update_only) body["update_only"] = true;
  body["meta"] = {{"message_id", event.message_id},
                  {"received_at", FormatRfc3339(event.received_at)}};
  net::OutboundRequest req;
  req.method = "PUT";
  req.url = EntityUrl(options_.base_url, e);
  req.headers.Set("Authorization", "Bearer " + options_.token.Reveal());
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set("Accept", "application/json");
  req.headers.Set("Idempotency-Key", IdempotencyKeyHeader(event.idempotency_key, index));
  // Invalid UTF-8 would throw in dump(); the mapping validated the strings,
  // and replacing keeps Apply exception-free regardless.
  req.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  req.timeout = options_.timeout;
  return req;
}

DeliveryOutcome RestCrmSink::Classify(const net::OutboundResult& result, const SinkEvent& event,
                                      size_t index) const {
  const model::Entity& e = event.entities[index];
  const std::string where = fmt::format("crm core: entity {} ({} {}/{})", index,
                                        model::KindName(e.kind), e.source, e.external_id);
  DeliveryOutcome outcome = net::ClassifyResponse(result, clock_.Now());
  if (outcome.ok()) return outcome;
  if (!result.ok()) {
    outcome.error = where + ": " + outcome.error;
    return outcome;
  }
  const net::OutboundResponse& r = result.value();
  std::string message = fmt::format("{}: HTTP {}: {}", where, r.status, ServerMessage(r));
  if (r.status == 401 || r.status == 403) {
    return DeliveryOutcome::Retry(message + " (check [crm] token_file)");
  }
  outcome.error = std::move(message);
  return outcome;
}

// One Apply call's exchanges. Owned by shared_ptr: Apply and every pending
// completion callback hold it, so the mutex and condition variable outlive
// the last callback even when Apply has already returned. `events` and
// `sink` are touched only before an event is marked done, and Apply returns
// only after every event is done, so those references stay valid.
class RestCrmSink::Batch : public std::enable_shared_from_this<RestCrmSink::Batch> {
 public:
  Batch(const RestCrmSink& sink, const std::vector<SinkEvent>& events)
      : sink_(sink), events_(events), outcomes_(events.size()) {}

  std::vector<DeliveryOutcome> Run() {
    const size_t initial =
        std::min(events_.size(), static_cast<size_t>(std::max(1, sink_.options_.max_in_flight)));
    for (size_t i = 0; i < initial; ++i) {
      size_t ev;
      {
        // A fast completion may already have started later events.
        std::lock_guard<std::mutex> lock(mu_);
        if (next_event_ >= events_.size()) break;
        ev = next_event_++;
      }
      Send(ev, 0);
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_ == events_.size(); });
    return std::move(outcomes_);
  }

 private:
  void Send(size_t ev, size_t index) {
    if (index >= events_[ev].entities.size()) {
      Finish(ev, DeliveryOutcome::Ok());
      return;
    }
    sink_.client_.SendAsync(sink_.BuildRequest(events_[ev], index),
                            [self = shared_from_this(), ev, index](net::OutboundResult result) {
                              self->OnResponse(ev, index, result);
                            });
  }

  void OnResponse(size_t ev, size_t index, const net::OutboundResult& result) {
    DeliveryOutcome outcome = sink_.Classify(result, events_[ev], index);
    if (outcome.ok()) {
      Send(ev, index + 1);
    } else {
      Finish(ev, std::move(outcome));
    }
  }

  // Records the event's outcome, then starts the next unstarted event.
  void Finish(size_t ev, DeliveryOutcome outcome) {
    std::optional<size_t> next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      outcomes_[ev] = std::move(outcome);
      if (next_event_ < events_.size()) next = next_event_++;
      ++done_;
      if (done_ == events_.size()) cv_.notify_all();
    }
    // When there is a next event, done_ < size: Apply is still waiting.
    if (next) Send(*next, 0);
  }

  const RestCrmSink& sink_;
  const std::vector<SinkEvent>& events_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<DeliveryOutcome> outcomes_ GUARDED_BY(mu_);
  size_t next_event_ GUARDED_BY(mu_) = 0;
  size_t done_ GUARDED_BY(mu_) = 0;
};

std::vector<DeliveryOutcome> RestCrmSink::Apply(const std::vector<SinkEvent>& events) {
  if (events.empty()) return {};
  return std::make_shared<Batch>(*this, events)->Run();
}

}  // namespace crmhub::crm
