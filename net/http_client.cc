#include "net/http_client.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <unordered_map>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace crmhub::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Done = std::function<void(OutboundResult)>;

namespace {

void GlobalInitOnce() {
  // curl_global_init is process-wide by libcurl's design; once is enough.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

// All curl calls and all members below run on `strand`; curl's callbacks are
// invoked from inside those calls, so they are on the strand too.
struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  // A socket curl uses. Connections are opened by us (OnOpenSocket) and owned
  // by `socket`. Other descriptors curl asks us to watch (the threaded
  // resolver's wake-up socketpair) are curl's: they are only watched through
  // `foreign`, released (never closed) when curl removes them.
  struct SocketInfo {
    explicit SocketInfo(asio::io_context& io) : socket(io), foreign(io) {}
    tcp::socket socket;
    asio::posix::stream_descriptor foreign;
    bool is_foreign = false;
    curl_socket_t fd = CURL_SOCKET_BAD;
    int want = 0;  // CURL_POLL_IN / OUT / INOUT, 0 when curl is not interested
    bool read_pending = false;
    bool write_pending = false;
    bool closed = false;
  };

  struct Transfer {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body;
    OutboundResponse response;
    uint64_t max_bytes = 0;
    bool too_large = false;
    char error[CURL_ERROR_SIZE] = {};
    Done done;
    ~Transfer() {
      if (easy) curl_easy_cleanup(easy);
      if (headers) curl_slist_free_all(headers);
    }
  };

  Impl(asio::io_context& io_in, HttpClientOptions options_in)
      : io(io_in), options(std::move(options_in)), strand(asio::make_strand(io_in)), timer(io_in) {
    GlobalInitOnce();
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  }
  ~Impl() {
    if (multi) curl_multi_cleanup(multi);  // only if Shutdown never ran
  }

  void Start(OutboundRequest request, Done done);
  void Finish(CURL* easy, CURLcode code);
  void Shutdown();

  void Action(curl_socket_t fd, int ev) {
    if (!multi) return;
    int running = 0;
    curl_multi_socket_action(multi, fd, ev, &running);
    CheckDone();
  }
  void CheckDone() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE) Finish(msg->easy_handle, msg->data.result);
    }
  }
  template <typename Handler>
  static void AsyncWait(SocketInfo& info, tcp::socket::wait_type type, Handler&& handler) {
    if (info.is_foreign) {
      info.foreign.async_wait(type == tcp::socket::wait_read
                                  ? asio::posix::descriptor_base::wait_read
                                  : asio::posix::descriptor_base::wait_write,
                              std::forward<Handler>(handler));
    } else {
      info.socket.async_wait(type, std::forward<Handler>(handler));
    }
  }
  void Arm(const std::shared_ptr<SocketInfo>& info) {
    if (info->closed) return;
    if ((info->want & CURL_POLL_IN) && !info->read_pending) {
      info->read_pending = true;
      AsyncWait(*info, tcp::socket::wait_read,
                asio::bind_executor(
                    strand, [self = shared_from_this(), info](boost::system::error_code ec) {
                      info->read_pending = false;
                      self->OnReady(info, ec, CURL_CSELECT_IN, CURL_POLL_IN);
                    }));
    }
    if ((info->want & CURL_POLL_OUT) && !info->write_pending) {
      info->write_pending = true;
      AsyncWait(*info, tcp::socket::wait_write,
                asio::bind_executor(
                    strand, [self = shared_from_this(), info](boost::system::error_code ec) {
                      info->write_pending = false;
                      self->OnReady(info, ec, CURL_CSELECT_OUT, CURL_POLL_OUT);
                    }));
    }
  }
  void OnReady(const std::shared_ptr<SocketInfo>& info, boost::system::error_code ec, int ev,
               int poll) {
    if (info->closed || !multi) return;
    if (ec != asio::error::operation_aborted && (info->want & poll)) {
      Action(info->fd, ec ? CURL_CSELECT_ERR : ev);
    }
    // A wait cancelled while curl still wants the socket is re-armed here.
    Arm(info);
  }

  static int OnSocket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    auto* self = static_cast<Impl*>(userp);
    auto it = self->sockets.find(fd);
    if (it == self->sockets.end()) {
      if (what == CURL_POLL_REMOVE) return 0;
      auto info = std::make_shared<SocketInfo>(self->io);
      boost::system::error_code ec;
      info->foreign.assign(fd, ec);
      if (ec) return -1;
      info->is_foreign = true;
      info->fd = fd;
      it = self->sockets.emplace(fd, std::move(info)).first;
    }
    std::shared_ptr<SocketInfo> info = it->second;
    if (what == CURL_POLL_REMOVE && info->is_foreign) {
      self->Forget(fd);  // curl is about to close it: stop watching, do not close
      return 0;
    }
    info->want = what == CURL_POLL_REMOVE ? 0 : what;
    self->Arm(info);
    return 0;
  }
  static int OnTimer(CURLM*, long timeout_ms, void* userp) {  // NOLINT(runtime/int): curl's API
    auto* self = static_cast<Impl*>(userp);
    if (timeout_ms < 0) {
      self->timer.cancel();
      return 0;
    }
    self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer.async_wait(asio::bind_executor(
        self->strand, [weak = self->weak_from_this()](boost::system::error_code ec) {
          auto s = weak.lock();
          if (ec || !s) return;
          s->Action(CURL_SOCKET_TIMEOUT, 0);
        }));
    return 0;
  }
  static curl_socket_t OnOpenSocket(void* clientp, curlsocktype purpose, curl_sockaddr* addr) {
    auto* self = static_cast<Impl*>(clientp);
    if (purpose != CURLSOCKTYPE_IPCXN || (addr->family != AF_INET && addr->family != AF_INET6)) {
      return CURL_SOCKET_BAD;
    }
    int fd = ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    // A stale entry under this number means curl closed a watched foreign
    // descriptor without removing it first; forget it before the new socket
    // registers with the reactor.
    self->Forget(fd);
    auto info = std::make_shared<SocketInfo>(self->io);
    boost::system::error_code ec;
    info->socket.assign(addr->family == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
    if (ec) {
      ::close(fd);
      return CURL_SOCKET_BAD;
    }
    info->fd = fd;
    self->sockets[fd] = std::move(info);
    return fd;
  }
  // Stops watching fd: our own socket is closed, a foreign one released.
  void Forget(curl_socket_t fd) {
    auto it = sockets.find(fd);
    if (it == sockets.end()) return;
    std::shared_ptr<SocketInfo> info = std::move(it->second);
    sockets.erase(it);
    info->closed = true;
    info->want = 0;
    boost::system::error_code ec;
    if (info->is_foreign) {
      info->foreign.cancel(ec);
      info->foreign.release();
    } else {
      info->socket.close(ec);  // completes pending waits with operation_aborted
    }
  }
  static int OnCloseSocket(void* clientp, curl_socket_t fd) {
    auto* self = static_cast<Impl*>(clientp);
    auto it = self->sockets.find(fd);
    if (it == self->sockets.end() || it->second->is_foreign) {
      self->Forget(fd);
      return ::close(fd);
    }
    self->Forget(fd);  // closes it
    return 0;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
      t->response.headers = HeaderMap();  // a new response (after 100, or a proxy's CONNECT)
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      t->response.headers.Add(std::string(Trim(line.substr(0, colon))),
                              std::string(Trim(line.substr(colon + 1))));
    }
    return size * n;
  }
  static size_t OnWrite(char* data, size_t size, size_t n, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    size_t len = size * n;
    if (t->response.body.size() + len > t->max_bytes) {
      t->too_large = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    t->response.body.append(data, len);
    return len;
  }

  asio::io_context& io;
  const HttpClientOptions options;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  CURLM* multi = nullptr;
  std::unordered_map<curl_socket_t, std::shared_ptr<SocketInfo>> sockets;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::atomic<size_t> in_flight{0};
};

void HttpClient::Impl::Start(OutboundRequest request, Done done) {
  if (!multi) {
    return done(Status::Unavailable("http client is shut down"));
  }
  auto t = std::make_unique<Transfer>();
  t->done = std::move(done);
  t->max_bytes = options.max_response_bytes;
  t->body = std::move(request.body);
  CURL* e = t->easy = curl_easy_init();
  if (!e) return t->done(Status::Internal("curl_easy_init failed"));

  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(request.timeout.value_or(options.request_timeout).count()));
  // TLS peers are always verified; there is deliberately no switch.
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_bundle.c_str());
  // An explicit empty proxy makes libcurl ignore http_proxy & co.
  curl_easy_setopt(e, CURLOPT_PROXY, options.proxy.c_str());
  curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options.max_response_bytes));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::OnWrite);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Impl::OnOpenSocket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Impl::OnCloseSocket);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);

  const std::string& m = request.method;
  if (m == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (m == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    if (m != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m.c_str());
    if (m == "POST" || !t->body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data());
    }
  }
  for (const auto& [name, value] : request.headers.entries()) {
    // "Name;" is curl's spelling of a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    t->headers = curl_slist_append(t->headers, line.c_str());
  }
  // No "Expect: 100-continue" round trip unless the caller asks for it.
  if (!request.headers.Has("Expect")) t->headers = curl_slist_append(t->headers, "Expect:");
  if (!request.headers.Has("Accept-Encoding")) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);

  CURLMcode mc = curl_multi_add_handle(multi, e);
  if (mc != CURLM_OK) {
    return t->done(
        Status::Internal(std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc)));
  }
  in_flight.fetch_add(1);
  transfers.emplace(e, std::move(t));
}

void HttpClient::Impl::Finish(CURL* easy, CURLcode code) {
  auto it = transfers.find(easy);
  if (it == transfers.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers.erase(it);
  curl_multi_remove_handle(multi, easy);
  in_flight.fetch_sub(1);

  curl_off_t total_us = 0;
  curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
  long status = 0;  // NOLINT(runtime/int): curl's API
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  std::string detail = t->error[0] ? t->error : curl_easy_strerror(code);

  if (code == CURLE_OK) {
    t->response.status = static_cast<int>(status);
    t->response.elapsed = std::chrono::microseconds(total_us);
    return t->done(std::move(t->response));
  }
  if (t->too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return t->done(Status::ResourceExhausted(
        "response exceeds " + std::to_string(options.max_response_bytes) + " bytes"));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) return t->done(Status::DeadlineExceeded("http: " + detail));
  t->done(Status::Unavailable("http: " + detail));
}

void HttpClient::Impl::Shutdown() {
  if (!multi) return;
  auto pending = std::move(transfers);
  transfers.clear();
  for (auto& [easy, t] : pending) {
    curl_multi_remove_handle(multi, easy);
    in_flight.fetch_sub(1);
    t->done(Status::Unavailable("http client shut down"));
  }
  curl_multi_cleanup(multi);  // closes cached connections via OnCloseSocket
  multi = nullptr;
  timer.cancel();
  while (!sockets.empty()) Forget(sockets.begin()->first);
}

HttpClient::HttpClient(asio::io_context& io, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

HttpClient::~HttpClient() {
  // Curl state lives on the strand: shut it down there. If nothing runs the
  // io_context any more, nobody else can touch it and it is done here.
  if (impl_->io.stopped() || impl_->strand.running_in_this_thread()) {
    impl_->Shutdown();
    return;
  }
  if (impl_->io.get_executor().running_in_this_thread()) {
    // Waiting here could block the only thread that would run Shutdown.
    asio::post(impl_->strand, [impl = impl_] { impl->Shutdown(); });
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  asio::post(impl_->strand, [impl = impl_, done] {
    impl->Shutdown();
    done->set_value();
  });
  // If nothing runs the io_context, the posted Shutdown runs whenever it is
  // run again (or the state is freed with the io_context); do not hang here.
  future.wait_for(std::chrono::seconds(10));
}

void HttpClient::SendAsync(OutboundRequest request, std::function<void(OutboundResult)> done) {
  auto impl = impl_;
  asio::post(impl->strand, [impl, request = std::move(request), done = std::move(done)]() mutable {
    impl->Start(std::move(request), [impl, done = std::move(done)](OutboundResult r) mutable {
      asio::post(impl->io,
                 [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    });
  });
}

// The initiation of Send, a named type rather than a lambda: GCC 12 may
// destroy a lambda temporary inside a co_await expression twice (GCC PR
// 100611), which would drop a reference to Impl too many.
struct SendInitiation {
  std::shared_ptr<HttpClient::Impl> impl;
  template <typename Handler>
  void operator()(Handler handler, OutboundRequest req) const;
};

template <typename Handler>
void SendInitiation::operator()(Handler handler, OutboundRequest req) const {
  auto h = std::make_shared<Handler>(std::move(handler));
  auto self = impl;
  asio::post(self->strand, [self, h, req = std::move(req)]() mutable {
    self->Start(std::move(req), [self, h](OutboundResult r) {
      auto ex = asio::get_associated_executor(*h, self->io.get_executor());
      asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
    });
  });
}

asio::awaitable<OutboundResult> HttpClient::Send(OutboundRequest request) {
  SendInitiation initiation{impl_};
  OutboundResult result =
      co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(OutboundResult)>(
          initiation, asio::use_awaitable, std::move(request));
  co_return result;
}

OutboundResult HttpClient::SendBlocking(OutboundRequest request) {
  if (impl_->io.get_executor().running_in_this_thread()) {
    return Status::Internal("HttpClient::SendBlocking called on an io_context thread");
  }
  if (impl_->io.stopped()) {
    // Nothing would ever run the exchange (or its timeout).
    return Status::Unavailable("HttpClient::SendBlocking: the io_context is stopped");
  }
  auto promise = std::make_shared<std::promise<OutboundResult>>();
  auto future = promise->get_future();
  SendAsync(std::move(request), [promise](OutboundResult r) { promise->set_value(std::move(r)); });
  return future.get();
}

size_t HttpClient::in_flight() const { return impl_->in_flight.load(); }

}  // namespace crmhub::net
