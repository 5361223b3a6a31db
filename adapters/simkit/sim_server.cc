#include "adapters/simkit/sim_server.h"

#include <algorithm>

#include <boost/asio/executor_work_guard.hpp>

namespace crmhub::simkit {

Status SimServer::Start(const std::string& listen, const std::string& server_header, int io_threads,
                        net::HttpHandler handler) {
  net::HttpServerOptions server_options;
  server_options.server_header = server_header;
  server_options.body_limit_bytes = 16 * 1024 * 1024;
  server_ = std::make_unique<net::HttpServer>(io_, server_options, std::move(handler));
  CRMHUB_RETURN_IF_ERROR(server_->Listen(listen));
  auto guard =
      std::make_shared<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          io_.get_executor());
  for (int i = 0; i < std::max(1, io_threads); ++i) {
    threads_.emplace_back([this, guard] { io_.run(); });
  }
  started_ = true;
  return Status::Ok();
}

void SimServer::Stop() {
  held_->Stop();
  if (!started_) return;
  started_ = false;
  if (server_) server_->Stop();
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace crmhub::simkit
