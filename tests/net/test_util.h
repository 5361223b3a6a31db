#pragma once
// Shared pieces of the net tests: an io_context run by real threads, and a
// raw blocking socket client for sending hand-made (or broken) HTTP.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace crmhub::net::testing {

// An io_context on `threads` threads; the destructor lets queued work finish
// (the work guard is released) and joins.
class IoThreads {
 public:
  explicit IoThreads(int threads = 2) : guard_(io_.get_executor()) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() { Join(); }
  void Join() {
    guard_.reset();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

// A value set once by one thread and waited for by another.
template <typename T>
class Latch {
 public:
  void Set(T v) {
    std::lock_guard lock(mu_);
    value_ = std::move(v);
    cv_.notify_all();
  }
  std::optional<T> Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return value_.has_value(); });
    return value_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> value_;
};

// A counter others can wait on reaching a value.
class WaitCounter {
 public:
  void Add(int n = 1) {
    std::lock_guard lock(mu_);
    count_ += n;
    cv_.notify_all();
  }
  bool WaitFor(int at_least, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= at_least; });
  }
  int value() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

// Blocking client socket (its own io_context, used from the test thread).
class RawClient {
 public:
  explicit RawClient(uint16_t port, const char* host = "127.0.0.1") : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address(host), port});
  }
  void Send(std::string_view data) { boost::asio::write(socket_, boost::asio::buffer(data)); }
  // Reads until the peer closes (or an error); returns everything read.
  std::string ReadAll() {
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    for (;;) {
      size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }
  // Reads one response whose body length is given by Content-Length. The
  // header is parsed once: copying what follows it on every read made an
  // 8 MiB answer quadratic (about 100 s under ThreadSanitizer), long enough
  // for the server's idle timeout to close the connection behind it.
  std::string ReadResponse() {
    std::string out;
    std::optional<size_t> whole;  // header and body, once the header is in
    boost::system::error_code ec;
    char buf[64 * 1024];
    for (;;) {
      if (!whole) {
        const size_t header_end = out.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          const std::string header = out.substr(0, header_end);
          const size_t cl = header.find("Content-Length: ");
          const size_t len = cl == std::string::npos ? 0 : std::stoul(header.substr(cl + 16));
          whole = header_end + 4 + len;
        }
      }
      if (whole && out.size() >= *whole) return out;
      size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
      if (ec) return out;
      out.append(buf, n);
    }
  }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace crmhub::net::testing
