#pragma once
// Notifier: how a simulator plays a system that calls the seller back (Yandex
// Market's API notifications, Ozon's pushes): it POSTs a JSON body to the
// URL the seller registered, as the system would, and reports the answer's
// status. A client of its own (io_context and thread), so a test or the
// simulator's owner can call it from any thread, the server's I/O threads
// excepted (it blocks).
//
// Thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "base/status.h"
#include "net/http_client.h"

namespace crmhub::simkit {

class Notifier {
 public:
  // `timeout`: how long the system waits for an answer (Market: 10 s).
  explicit Notifier(std::chrono::milliseconds timeout);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // The answer's status; Unavailable when none came (connection refused,
  // timeout).
  Result<int> Post(const std::string& url, std::string json_body);
  // Any request, the whole answer (a system that drives an exchange with the
  // seller, 1C's CommerceML one: it reads the answers' bodies).
  net::OutboundResult Send(net::OutboundRequest request);

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<net::HttpClient> client_;
  std::thread thread_;
};

}  // namespace crmhub::simkit
