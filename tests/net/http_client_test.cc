#include "net/http_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/http_server.h"
#include "tests/net/test_util.h"

namespace crmhub::net {
namespace {

using namespace std::chrono_literals;
using testing::IoThreads;
using testing::Latch;
using testing::WaitCounter;

// A loopback server whose answer is chosen by path.
class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    server_ = std::make_unique<HttpServer>(
        io_.io(), HttpServerOptions{},
        [this](HttpRequest req, Responder respond) { Handle(std::move(req), std::move(respond)); });
    EXPECT_TRUE(server_->Listen("127.0.0.1:0").ok());
  }
  ~ClientTest() override {
    {
      std::lock_guard lock(mu_);
      for (auto& r : held_) r(HttpResponse::Text(200, "released"));
      held_.clear();
    }
    server_->Stop();
  }

  void Handle(HttpRequest req, Responder respond) {
    if (req.path == "/ok") {
      HttpResponse r = HttpResponse::Text(200, req.method + " " + req.body);
      r.headers.Add("X-Reply", "a");
      r.headers.Add("X-Reply", "b");
      r.headers.Add("X-Seen-Header", std::string(req.headers.Get("X-Req").value_or("")));
      respond(std::move(r));
    } else if (req.path == "/429s") {
      HttpResponse r = HttpResponse::Error(429, "too_many_requests");
      r.headers.Set("Retry-After", "120");
      respond(std::move(r));
    } else if (req.path == "/429date") {
      HttpResponse r = HttpResponse::Error(429, "too_many_requests");
      r.headers.Set("Retry-After", "Wed, 25 Nov 2026 10:00:00 GMT");
      respond(std::move(r));
    } else if (req.path == "/500") {
      respond(HttpResponse::Error(500, "internal", "boom"));
    } else if (req.path == "/404") {
      respond(HttpResponse::Error(404, "not_found", "no such order 42"));
    } else if (req.path == "/big") {
      respond(HttpResponse::Text(200, std::string(5000, 'x')));
    } else if (req.target.starts_with("http://")) {
      respond(HttpResponse::Text(200, "proxied " + req.target));  // we are the proxy
    } else if (req.path == "/hang") {
      {
        std::lock_guard lock(mu_);
        held_.push_back(std::move(respond));
      }
      hang_arrived_.Add();
    } else {
      respond(HttpResponse::Error(404, "not_found"));
    }
  }

  std::string Url(std::string_view path) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }
  OutboundRequest Get(std::string_view path) {
    OutboundRequest r;
    r.url = Url(path);
    return r;
  }

  IoThreads io_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<Responder> held_;
  WaitCounter hang_arrived_;
  SystemTime now_ = SystemTime(std::chrono::seconds(1'795'000'000));  // 2026-11-19
};

TEST_F(ClientTest, GetAndPostWithHeaders) {
  HttpClient client(io_.io(), {});
  OutboundRequest req = Get("/ok");
  req.headers.Set("X-Req", "hello");
  OutboundResult r = client.SendBlocking(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET ");
  EXPECT_EQ(r->headers.Get("x-reply"), "a");
  EXPECT_EQ(r->headers.Get("X-Seen-Header"), "hello");
  EXPECT_EQ(r->headers.Get("Server"), "crmhub");
  EXPECT_GT(r->elapsed.count(), 0);
  EXPECT_TRUE(ClassifyResponse(r, now_).ok());

  OutboundRequest post = Get("/ok");
  post.method = "PUT";
  post.body = std::string(3000, 'b');  // larger than curl's Expect: threshold
  r = client.SendBlocking(post);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "PUT " + std::string(3000, 'b'));
  EXPECT_EQ(client.in_flight(), 0u);
}

TEST_F(ClientTest, ResolvesHostNamesThroughCurlsResolverThread) {
  // The machine's own name goes through the threaded resolver (unlike
  // "localhost", which curl answers itself), whose wake-up descriptor the
  // client must watch on the io_context.
  ASSERT_TRUE(server_->Listen("0.0.0.0:0").ok());
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  HttpClient client(io_.io(), {});
  for (std::string host : {std::string(name), std::string("localhost")}) {
    OutboundRequest req;
    req.url = "http://" + host + ":" + std::to_string(server_->port(1)) + "/ok";
    OutboundResult r = client.SendBlocking(req);
    ASSERT_TRUE(r.ok()) << host << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 200) << host;
  }
}

TEST_F(ClientTest, RetryAfterSecondsAndDateAreHonoured) {
  HttpClient client(io_.io(), {});
  OutboundResult r = client.SendBlocking(Get("/429s"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429);
  DeliveryOutcome o = ClassifyResponse(r, now_);
  EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_TRUE(o.throttled) << "a 429 is not counted as an attempt";
  ASSERT_TRUE(o.not_before.has_value());
  EXPECT_EQ(*o.not_before, now_ + 120s);
  EXPECT_NE(o.error.find("429"), std::string::npos);

  r = client.SendBlocking(Get("/429date"));
  ASSERT_TRUE(r.ok());
  o = ClassifyResponse(r, now_);
  EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kRetry);
  ASSERT_TRUE(o.not_before.has_value());
  EXPECT_EQ(ToUnixMillis(*o.not_before), 1'795'600'800'000);  // 2026-11-25T10:00:00Z
}

TEST_F(ClientTest, ServerErrorRetriesAndClientErrorFails) {
  HttpClient client(io_.io(), {});
  OutboundResult r = client.SendBlocking(Get("/500"));
  ASSERT_TRUE(r.ok());
  DeliveryOutcome o = ClassifyResponse(r, now_);
  EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_FALSE(o.throttled) << "a 500 is a failed attempt";
  EXPECT_FALSE(o.not_before.has_value());

  r = client.SendBlocking(Get("/404"));
  ASSERT_TRUE(r.ok());
  o = ClassifyResponse(r, now_);
  EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(o.error.find("HTTP 404"), std::string::npos) << o.error;
  EXPECT_NE(o.error.find("no such order 42"), std::string::npos) << o.error;
}

TEST_F(ClientTest, UploadOverTheServersBodyLimitGets413NotAReset) {
  HttpClient client(io_.io(), {});
  OutboundRequest req = Get("/ok");
  req.method = "POST";
  req.body = std::string(3 * 1024 * 1024, 'u');  // server default limit: 1 MiB
  OutboundResult r = client.SendBlocking(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(ClassifyResponse(r, now_).kind, DeliveryOutcome::Kind::kFail);
}

TEST_F(ClientTest, DestroyingTheClientCompletesPendingRequests) {
  Latch<StatusCode> code;
  {
    HttpClient client(io_.io(), {});
    client.SendAsync(Get("/hang"), [&](OutboundResult r) { code.Set(r.status().code()); });
    // Wait until the server holds the request, so it is truly in flight.
    ASSERT_TRUE(hang_arrived_.WaitFor(1));
  }
  EXPECT_EQ(code.Wait(), StatusCode::kUnavailable);
}

TEST_F(ClientTest, HungServerTimesOut) {
  HttpClient client(io_.io(), {});
  OutboundRequest req = Get("/hang");
  req.timeout = 200ms;
  auto start = std::chrono::steady_clock::now();
  OutboundResult r = client.SendBlocking(req);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(ClassifyResponse(r, now_).kind, DeliveryOutcome::Kind::kRetry);
}

TEST_F(ClientTest, ConnectionIsReused) {
  HttpClient client(io_.io(), {});
  for (int i = 0; i < 5; ++i) {
    OutboundResult r = client.SendBlocking(Get("/ok"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // Five exchanges, one connection on the server side.
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(ClientTest, ResponseOverMaxSizeFails) {
  HttpClientOptions options;
  options.max_response_bytes = 1000;
  HttpClient client(io_.io(), options);
  OutboundResult r = client.SendBlocking(Get("/big"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_EQ(ClassifyResponse(r, now_).kind, DeliveryOutcome::Kind::kFail);
  OutboundResult ok = client.SendBlocking(Get("/ok"));
  EXPECT_TRUE(ok.ok());
}

TEST_F(ClientTest, ManyConcurrentRequestsAllComplete) {
  HttpClient client(io_.io(), {});
  constexpr int kRequests = 200;
  WaitCounter done;
  std::atomic<int> ok{0};
  for (int i = 0; i < kRequests; ++i) {
    OutboundRequest req = Get("/ok");
    req.method = "POST";
    req.body = std::to_string(i);
    client.SendAsync(std::move(req), [&, i](OutboundResult r) {
      if (r.ok() && r->status == 200 && r->body == "POST " + std::to_string(i)) ok++;
      done.Add();
    });
  }
  ASSERT_TRUE(done.WaitFor(kRequests, 30s));
  EXPECT_EQ(ok.load(), kRequests);
  EXPECT_EQ(client.in_flight(), 0u);
}

TEST_F(ClientTest, AwaitableSend) {
  HttpClient client(io_.io(), {});
  Latch<int> status;
  boost::asio::co_spawn(
      io_.io(),
      [&]() -> boost::asio::awaitable<void> {
        OutboundRequest req = Get("/ok");  // named: see SendInitiation on GCC 12
        OutboundResult r = co_await client.Send(std::move(req));
        status.Set(r.ok() ? r->status : -1);
      },
      boost::asio::detached);
  EXPECT_EQ(status.Wait(), 200);
}

TEST_F(ClientTest, SendBlockingOnIoThreadIsRefused) {
  HttpClient client(io_.io(), {});
  Latch<StatusCode> code;
  boost::asio::post(io_.io(), [&] {
    OutboundResult r = client.SendBlocking(Get("/ok"));
    code.Set(r.status().code());
  });
  EXPECT_EQ(code.Wait(), StatusCode::kInternal);
}

TEST_F(ClientTest, EnvironmentProxyIsIgnored) {
  setenv("http_proxy", "http://127.0.0.1:1", 1);
  setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
  HttpClient client(io_.io(), {});
  OutboundResult r = client.SendBlocking(Get("/ok"));
  unsetenv("http_proxy");
  unsetenv("HTTP_PROXY");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(ClientTest, ConfiguredProxyIsUsed) {
  HttpClientOptions options;
  options.proxy = "http://127.0.0.1:" + std::to_string(server_->port());
  HttpClient client(io_.io(), options);
  OutboundRequest req;
  req.url = "http://upstream.invalid/v1/orders?x=1";
  OutboundResult r = client.SendBlocking(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "proxied http://upstream.invalid/v1/orders?x=1");
}

TEST_F(ClientTest, TlsToAPlainServerIsATransportError) {
  HttpClient client(io_.io(), {});
  OutboundRequest req;
  req.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/ok";
  req.timeout = 5s;
  OutboundResult r = client.SendBlocking(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST_F(ClientTest, ConnectionRefusedIsRetryableTransportError) {
  HttpClient client(io_.io(), {});
  // Bind a port, then close it, so nothing listens there.
  uint16_t port;
  {
    boost::asio::io_context cio;
    boost::asio::ip::tcp::acceptor a(cio, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  OutboundRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  OutboundResult r = client.SendBlocking(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ClassifyResponse(r, now_).kind, DeliveryOutcome::Kind::kRetry);
}

TEST(HttpClientRawTest, ResetMidResponseIsRetryableTransportError) {
  IoThreads io;
  // A server that answers with half a body and then closes the socket.
  boost::asio::io_context sio;
  boost::asio::ip::tcp::acceptor acceptor(sio, {boost::asio::ip::make_address("127.0.0.1"), 0});
  uint16_t port = acceptor.local_endpoint().port();
  std::thread server([&] {
    boost::asio::ip::tcp::socket s(sio);
    acceptor.accept(s);
    char buf[4096];
    boost::system::error_code ec;
    s.read_some(boost::asio::buffer(buf), ec);
    std::string_view partial = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial";
    boost::asio::write(s, boost::asio::buffer(partial), ec);
    s.set_option(boost::asio::socket_base::linger(true, 0), ec);  // RST, not FIN
    s.close(ec);
  });
  HttpClient client(io.io(), {});
  OutboundRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  OutboundResult r = client.SendBlocking(req);
  server.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(ClassifyResponse(r, SystemTime()).kind, DeliveryOutcome::Kind::kRetry);
}

TEST(RetryAfterTest, Forms) {
  SystemTime now(std::chrono::seconds(1'000'000'000));
  EXPECT_EQ(ParseRetryAfter("0", now), now);
  EXPECT_EQ(ParseRetryAfter(" 30 ", now), now + 30s);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", now), now + std::chrono::hours(24 * 365));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", SystemTime()),
            SystemTime(std::chrono::seconds(784111777)));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", SystemTime()),
            SystemTime(std::chrono::seconds(784111777)));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", SystemTime()),
            SystemTime(std::chrono::seconds(784111777)));
  // A date in the past means "now".
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), now);
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("1.5", now).has_value());
}

TEST(ClassifyTest, StatusTable) {
  SystemTime now;
  auto classify = [&](int status) {
    OutboundResponse r;
    r.status = status;
    return ClassifyResponse(OutboundResult(r), now).kind;
  };
  using K = DeliveryOutcome::Kind;
  EXPECT_EQ(classify(200), K::kOk);
  EXPECT_EQ(classify(204), K::kOk);
  EXPECT_EQ(classify(408), K::kRetry);
  EXPECT_EQ(classify(429), K::kRetry);
  EXPECT_EQ(classify(502), K::kRetry);
  EXPECT_EQ(classify(400), K::kFail);
  EXPECT_EQ(classify(401), K::kFail);
  EXPECT_EQ(classify(409), K::kFail);
  EXPECT_EQ(classify(301), K::kFail);
  EXPECT_EQ(ClassifyResponse(OutboundResult(Status::DeadlineExceeded("t")), now).kind, K::kRetry);
}

}  // namespace
}  // namespace crmhub::net
