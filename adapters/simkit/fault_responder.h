#pragma once
// Helpers for answering injected faults on a net::HttpServer handler.
//
// Delayed answers ("slow", "timeout") are held on Asio timers on the
// server's io_context: this is the one place the simulators use real time,
// because the client being tested waits in real time. Everything else a
// simulator decides (rate limits, order arrival) goes through a Clock.
//
// Thread-safe. Stop() (or the destructor) answers every held request at once
// with 503, so no connection outlives the simulator.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/http_types.h"

namespace crmhub::simkit {

// A 200 whose JSON body is cut in half (and never valid JSON), for the
// "malformed" fault. `valid_json` is what the answer would have been.
net::HttpResponse MalformedJson(std::string_view valid_json);

// A response with the given status, JSON body and extra headers.
net::HttpResponse JsonWithHeaders(int status, std::string body,
                                  const std::vector<std::pair<std::string, std::string>>& headers);

class HeldResponses {
 public:
  explicit HeldResponses(boost::asio::io_context& io);
  ~HeldResponses();
  HeldResponses(const HeldResponses&) = delete;
  HeldResponses& operator=(const HeldResponses&) = delete;

  // Answers `response` after `delay` ("slow"). A "timeout" is the same with
  // a delay longer than any client waits.
  void AnswerLater(net::Responder respond, net::HttpResponse response,
                   std::chrono::milliseconds delay);
  // Answers everything still held with 503 and refuses later holds
  // (answering them at once with 503).
  void Stop();
  size_t held() const;

 private:
  struct Held {
    std::shared_ptr<boost::asio::steady_timer> timer;
    net::Responder respond;
    net::HttpResponse response;
  };
  // Shared with timer callbacks (weakly), so a timer that fires after the
  // owner is gone does nothing.
  struct State {
    std::mutex mu;
    std::map<uint64_t, Held> held;
    uint64_t next_id = 1;
    bool stopped = false;
  };
  static void Fire(const std::shared_ptr<State>& state, uint64_t id);

  boost::asio::io_context& io_;
  std::shared_ptr<State> state_;
};

}  // namespace crmhub::simkit
