#include "net/http_server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <ctime>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "base/thread_annotations.h"
#include "net/http_parse.h"

namespace crmhub::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// "Tue, 24 Nov 2026 10:00:00 GMT" (RFC 9110 IMF-fixdate).
std::string HttpDate(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

// Each connection runs on its own strand, named by its concrete type rather
// than asio's type-erased any_io_executor: every async operation on a stream
// asks its executor for properties, and through the type erasure each ask
// copied the executor (a shared_ptr to the strand). Measured on the webhook
// intake: 1-3 % less CPU per request.
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = tcp::socket::rebind_executor<Strand>::other;
using Stream = beast::basic_stream<tcp, Strand>;

std::string PeerAddress(const Socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return {};
  auto addr = ep.address();
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; allow-lists
  // are written in plain IPv4.
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
  }
  return addr.to_string();
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  class Session;

  struct Listener {
    explicit Listener(asio::io_context& io) : acceptor(asio::make_strand(io)) {}
    tcp::acceptor acceptor;
    uint16_t port = 0;
  };

  Impl(asio::io_context& io_in, HttpServerOptions options_in, HttpHandler handler_in)
      : io(io_in), options(std::move(options_in)), handler(std::move(handler_in)) {}

  void Accept(std::shared_ptr<Listener> listener);
  void OnAccept(std::shared_ptr<Listener> listener, beast::error_code ec, Socket socket);
  void RejectBusy(Socket socket);
  void Register(Session* s, std::weak_ptr<Session> w) {
    std::lock_guard lock(mu);
    sessions.emplace(s, std::move(w));
  }
  void Unregister(Session* s) {
    std::lock_guard lock(mu);
    sessions.erase(s);
  }
  SystemTime Now() const { return options.clock ? options.clock->Now() : system_clock.Now(); }

  asio::io_context& io;
  const HttpServerOptions options;
  const HttpHandler handler;
  SystemClock system_clock;
  std::atomic<bool> stopping{false};
  std::atomic<bool> detached{false};  // the HttpServer object is gone
  std::atomic<size_t> open{0};

  mutable std::mutex mu;
  std::vector<std::shared_ptr<Listener>> listeners GUARDED_BY(mu);
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions GUARDED_BY(mu);
};

// One connection. Every member is touched only on the stream's strand.
// Requests are handled one at a time: the next request (pipelined or not) is
// not parsed before the current response is written, which bounds pipelining
// to one request in flight per connection.
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Impl> server, Socket socket)
      : server_(std::move(server)), stream_(std::move(socket)) {
    remote_ = PeerAddress(stream_.socket());
  }
  ~Session() {
    server_->Unregister(this);
    server_->open.fetch_sub(1);
  }

  void Start() {
    server_->Register(this, weak_from_this());
    // Lets Write() try the send at once without ever blocking the thread
    // (asio's own async operations work the same in this mode). Should the
    // mode not take, every answer goes through async_write instead.
    beast::error_code ec;
    stream_.socket().non_blocking(true, ec);
    send_at_once_ = !ec;
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->stream_.expires_after(self->server_->options.read_timeout);
      self->WaitForRequest(/*first=*/true);
    });
  }

  // Called on the strand by Stop(): an idle connection closes now; a busy
  // one closes after its current response.
  void OnStop() {
    if (state_ == State::kIdle) Close();
  }

  void Post(std::function<void()> fn) { asio::post(stream_.get_executor(), std::move(fn)); }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosing, kClosed };

  // Waits for the first bytes of a request. Between keep-alive requests the
  // wait is bounded by idle_timeout; for the first request of a connection
  // the read deadline (set in Start) already runs.
  void WaitForRequest(bool first) {
    // Stopping: a connection with no request under way closes now.
    if (server_->stopping && buffer_.size() == 0) return Close();
    if (buffer_.size() > 0) return ReadHeader(first);
    state_ = State::kIdle;
    if (!first) stream_.expires_after(server_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this(), first](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader(first);
                            });
  }

  void ReadHeader(bool first) {
    state_ = State::kReading;
    // The whole request, from its first byte, must arrive within read_timeout
    // (the deadline only arms when an async read starts).
    if (!first) stream_.expires_after(server_->options.read_timeout);
    parser_.emplace();
    parser_->header_limit(server_->options.header_limit_bytes);
    // Content-Length is checked against the per-path limit in OnHeader;
    // here the limit must not fire before we know the path. (Not boost::none:
    // Beast 1.74 compares a Content-Length against an empty optional as
    // "over the limit".)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // A request usually arrives whole in its first read: parse it from the
    // buffer here. async_read_header and async_read would each complete
    // through the io_context's queue, behind every other connection's
    // handlers (together ~90 us per request under the intake benchmark).
    parser_->eager(false);  // stop after the header, as async_read_header does
    beast::error_code parse_ec;
    if (ParseBuffered(parse_ec, [](const auto& p) { return p.is_header_done(); })) {
      return OnHeader(parse_ec);
    }
    if (parse_ec) return OnReadError(parse_ec);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // Feeds the parser what buffer_ already holds, as Beast's read operations
  // do, until `done(parser)`. Returns true when done; false with `ec` clear
  // when more bytes must be read, or with `ec` set on a parse error.
  template <class Done>
  bool ParseBuffered(beast::error_code& ec, Done done) {
    ec = {};
    while (!done(*parser_)) {
      if (buffer_.size() == 0) return false;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
        return false;
      }
      if (ec || used == 0) return false;
    }
    return true;
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto& req = parser_->get();
    if (std::string_view error = FramingError(req); !error.empty()) {
      return SendError(400, "bad_request", std::string(error));
    }
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    if (server_->options.screen_headers) {
      HeaderMap headers;
      for (const auto& field : req) {
        headers.Add(std::string(field.name_string()), std::string(field.value()));
      }
      const std::string decoded = PercentDecode(path);
      if (auto refusal =
              server_->options.screen_headers(req.method_string(), decoded, headers, remote_)) {
        keep_alive_ = false;
        if (parser_) version_ = req.version() ? req.version() : 11;
        parser_.reset();
        return Write(std::move(*refusal));
      }
    }
    uint64_t limit = server_->options.body_limit_bytes;
    if (server_->options.body_limit_for) {
      uint64_t l = server_->options.body_limit_for(PercentDecode(path));
      if (l != 0) limit = l;
    }
    auto content_length = parser_->content_length();
    if (content_length && *content_length > limit) {
      return SendError(413, "payload_too_large",
                       "request body exceeds " + std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      return http::async_write(stream_, *cont,
                               [self = shared_from_this(), cont](beast::error_code wec, size_t) {
                                 if (wec) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    parser_->eager(true);  // as async_read does
    beast::error_code parse_ec;
    if (ParseBuffered(parse_ec, [](const auto& p) { return p.is_done(); })) return Dispatch();
    if (parse_ec) return OnReadError(parse_ec);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return SendError(413, "payload_too_large", "request body exceeds the limit");
    }
    if (ec == http::error::header_limit) {
      return SendError(431, "header_too_large", "request header exceeds the limit");
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return SendError(400, "bad_request", "malformed HTTP request");
    }
    // Timeout (slow client), reset, EOF: nothing useful can be sent.
    Close();
  }

  void Dispatch() {
    state_ = State::kHandling;
    stream_.expires_never();  // the handler may take its time (durable enqueue)
    auto msg = parser_->release();
    parser_.reset();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == http::verb::head;

    HttpRequest req = ToHttpRequest(std::move(msg), remote_);

    // The responder may outlive this call and run on any thread; it hops
    // back to the strand. If it is destroyed unused, the client gets a 500
    // rather than a hung connection.
    struct Once {
      std::shared_ptr<Session> session;
      std::atomic<bool> used{false};
      ~Once() {
        if (!used && session) {
          auto s = session;
          s->Post(
              [s] { s->Write(HttpResponse::Error(500, "internal", "request was not answered")); });
        }
      }
    };
    auto once = std::make_shared<Once>();
    once->session = shared_from_this();
    Responder respond = [once](HttpResponse response) {
      if (once->used.exchange(true)) return;  // exactly once; later calls are ignored
      auto s = once->session;
      s->Post([s, r = std::move(response)]() mutable { s->Write(std::move(r)); });
    };
    if (server_->detached) {
      return respond(HttpResponse::Error(503, "shutting_down", "server is shutting down"));
    }
    try {
      server_->handler(std::move(req), std::move(respond));
    } catch (const std::exception& e) {
      // A throwing handler is a bug; the Once guard answers 500 unless the
      // handler already responded. The connection and the server go on.
      spdlog::error("http: a request handler threw: {}", e.what());
      if (server_->options.handler_exceptions) server_->options.handler_exceptions->Inc();
    } catch (...) {
      spdlog::error("http: a request handler threw a non-standard exception");
      if (server_->options.handler_exceptions) server_->options.handler_exceptions->Inc();
    }
  }

  void SendError(int status, std::string_view error, std::string detail) {
    keep_alive_ = false;
    if (parser_) version_ = parser_->get().version() ? parser_->get().version() : 11;
    parser_.reset();
    Write(HttpResponse::Error(status, error, detail));
  }

  void Write(HttpResponse response) {
    if (state_ == State::kClosed) return;
    state_ = State::kWriting;
    // The message and its serializer in one allocation: the serializer keeps
    // its place in the message if the send must continue asynchronously.
    struct Outgoing {
      http::response<http::string_body> message;
      std::optional<http::response_serializer<http::string_body>> serializer;
    };
    auto out = std::make_shared<Outgoing>();
    http::response<http::string_body>* res = &out->message;
    res->version(version_ ? version_ : 11);
    res->result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers.entries()) {
      if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding")) {
        continue;  // framing is ours
      }
      res->insert(name, value);
    }
    if (!response.headers.Has("Server"))
      res->set(http::field::server, server_->options.server_header);
    if (!response.headers.Has("Date")) res->set(http::field::date, HttpDate(server_->Now()));
    if (beast::iequals((*res)[http::field::connection], "close")) keep_alive_ = false;
    if (server_->stopping) keep_alive_ = false;
    res->body() = std::move(response.body);
    res->prepare_payload();
    if (head_) res->body().clear();  // Content-Length stays that of the GET body
    res->keep_alive(keep_alive_);
    // Most answers fit the socket's send buffer: send them now (the socket is
    // non-blocking) rather than through async_write, whose completion (and
    // its deadline timer's cancellation) would again queue behind every other
    // connection's handlers. What does not fit is sent by async_write from
    // where this stopped, under the write deadline.
    auto& serializer = out->serializer.emplace(*res);
    beast::error_code write_ec = asio::error::would_block;
    if (send_at_once_) http::write(stream_.socket(), serializer, write_ec);
    if (!write_ec) return AfterWrite();
    if (write_ec != asio::error::would_block && write_ec != asio::error::try_again) return Close();
    stream_.expires_after(server_->options.write_timeout);
    http::async_write(stream_, serializer,
                      [self = shared_from_this(), out](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->AfterWrite();
                      });
  }

  void AfterWrite() {
    if (!keep_alive_) return LingerClose();
    WaitForRequest(/*first=*/false);
  }

  // Closing right after a response while the client may still be sending
  // (a rejected body, a pipelined request) would make the kernel answer with
  // a reset that can destroy the response in flight. So: send FIN, then read
  // and discard until the client closes, for at most a second / 8 MiB.
  void LingerClose() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(1));
    Drain(0);
  }
  void Drain(size_t drained) {
    buffer_.consume(buffer_.size());
    if (drained > (8u << 20)) return Close();
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->Drain(drained + n);
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  std::shared_ptr<Impl> server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  State state_ = State::kIdle;
  bool keep_alive_ = true;
  bool send_at_once_ = false;  // the socket is non-blocking (Start)
  bool head_ = false;
  unsigned version_ = 11;
};

namespace {

// Lingering close for RejectBusy: read and discard until the client closes
// or the stream's deadline passes, then close.
void DrainThenClose(std::shared_ptr<Stream> stream,
                    std::shared_ptr<std::array<char, 4096>> scratch) {
  auto buffer = asio::buffer(*scratch);
  stream->async_read_some(buffer, [stream, scratch](beast::error_code ec, size_t) {
    if (ec) return stream->close();
    DrainThenClose(stream, scratch);
  });
}

}  // namespace

void HttpServer::Impl::Accept(std::shared_ptr<Listener> listener) {
  auto& acceptor = listener->acceptor;
  acceptor.async_accept(asio::make_strand(io),
                        [self = shared_from_this(), listener](beast::error_code ec, Socket socket) {
                          self->OnAccept(listener, ec, std::move(socket));
                        });
}

void HttpServer::Impl::OnAccept(std::shared_ptr<Listener> listener, beast::error_code ec,
                                Socket socket) {
  if (stopping || !listener->acceptor.is_open()) return;
  if (!ec) {
    if (open.fetch_add(1) >= options.max_connections) {
      open.fetch_sub(1);
      RejectBusy(std::move(socket));
    } else {
      std::make_shared<Session>(shared_from_this(), std::move(socket))->Start();
    }
  }
  // Errors such as EMFILE are transient: keep accepting.
  Accept(std::move(listener));
}

// Over max_connections: a short 503 and close, written without reading the
// request (the client may see a reset if it is still sending).
void HttpServer::Impl::RejectBusy(Socket socket) {
  auto stream = std::make_shared<Stream>(std::move(socket));
  auto res =
      std::make_shared<http::response<http::string_body>>(http::status::service_unavailable, 11);
  HttpResponse err = HttpResponse::Error(503, "overloaded", "too many connections");
  res->set(http::field::server, options.server_header);
  res->set(http::field::date, HttpDate(Now()));
  res->set(http::field::content_type, "application/json");
  res->set(http::field::retry_after, "1");
  res->body() = std::move(err.body);
  res->keep_alive(false);
  res->prepare_payload();
  stream->expires_after(options.write_timeout);
  http::async_write(*stream, *res, [stream, res](beast::error_code wec, size_t) {
    beast::error_code ec;
    stream->socket().shutdown(tcp::socket::shutdown_send, ec);
    if (wec) return stream->close();
    // Lingering close (see Session::LingerClose): read until the client
    // closes, at most a second, so it gets the 503 rather than a reset.
    stream->expires_after(std::chrono::seconds(1));
    DrainThenClose(stream, std::make_shared<std::array<char, 4096>>());
  });
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  // Sessions may outlive this object (they own Impl); from now on they must
  // not call the handler, whose captures may be gone.
  impl_->detached = true;
  Stop();
}

Status HttpServer::Listen(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("listen address must be host:port: " + address);
  }
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long port_num = 0;
  try {
    size_t used = 0;
    port_num = std::stoul(port_text, &used);
    if (used != port_text.size() || port_num > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return Status::InvalidArgument("bad port in listen address: " + address);
  }
  beast::error_code ec;
  asio::ip::address ip = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) {
    tcp::resolver resolver(impl_->io);
    auto results = resolver.resolve(host, port_text, ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("cannot resolve listen host '" + host + "'");
    }
    ip = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(ip, static_cast<uint16_t>(port_num));
  auto listener = std::make_shared<Impl::Listener>(impl_->io);
  auto& acceptor = listener->acceptor;
  auto fail = [&](std::string_view what) {
    return Status::Unavailable("listen " + address + ": " + std::string(what) + ": " +
                               ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("reuse_address");
  acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  listener->port = acceptor.local_endpoint(ec).port();
  {
    std::lock_guard lock(impl_->mu);
    impl_->listeners.push_back(listener);
  }
  impl_->stopping = false;
  impl_->Accept(listener);
  return Status::Ok();
}

uint16_t HttpServer::port(size_t listener) const {
  std::lock_guard lock(impl_->mu);
  return listener < impl_->listeners.size() ? impl_->listeners[listener]->port : 0;
}

void HttpServer::Stop() {
  impl_->stopping = true;
  std::vector<std::shared_ptr<Impl::Listener>> listeners;
  std::vector<std::shared_ptr<Impl::Session>> sessions;
  {
    std::lock_guard lock(impl_->mu);
    listeners = impl_->listeners;
    for (auto& [ptr, weak] : impl_->sessions) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  // Acceptors are closed on their strands. Off the io threads, Stop() waits
  // for that, so the ports refuse connections once it returns.
  bool wait = !impl_->io.get_executor().running_in_this_thread() && !impl_->io.stopped();
  std::vector<std::future<void>> closed;
  for (auto& l : listeners) {
    auto done = std::make_shared<std::promise<void>>();
    closed.push_back(done->get_future());
    asio::dispatch(l->acceptor.get_executor(), [l, done] {
      beast::error_code ec;
      l->acceptor.close(ec);
      done->set_value();
    });
  }
  if (impl_->io.stopped()) {
    // Nothing runs the handlers; nothing can race with closing here.
    for (auto& l : listeners) {
      beast::error_code ec;
      l->acceptor.close(ec);
    }
  } else if (wait) {
    // Bounded: if no thread runs the io_context, do not hang.
    for (auto& f : closed) f.wait_for(std::chrono::seconds(5));
  }
  for (auto& s : sessions) {
    s->Post([s] { s->OnStop(); });
  }
}

size_t HttpServer::open_connections() const { return impl_->open.load(); }

}  // namespace crmhub::net
