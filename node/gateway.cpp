#include "node/gateway.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include "node/http_range.hpp"

namespace stakecast::node {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using milliseconds = std::chrono::milliseconds;

namespace {

class connection;

constexpr std::string_view content_prefix = "/content/";
constexpr std::uint32_t accept_retry_ms = 100;
constexpr std::size_t mime_type_bytes_max = 255;
// After the last response of a connection the gateway reads and drops what the client
// still sends (the rest of a refused body) before closing: closing with unread bytes
// would reset the connection and could destroy the response in flight.
constexpr std::uint32_t linger_ms = 2'000;
constexpr std::size_t linger_bytes_max = 1024 * 1024;
constexpr std::size_t linger_read_bytes = 16 * 1024;
// A kept-alive connection's wait for its next request reads this much at once; the
// header parser takes it from the buffer.
constexpr std::size_t idle_read_bytes = 4 * 1024;

/// Lets a content read that completes after the gateway is gone do nothing, instead of
/// posting onto a destroyed io_context. Shared by the gateway and every pending read.
struct liveness {
  std::mutex mutex;
  bool stopped = false;
};

using string_response = http::response<http::string_body>;

string_response json_response(http::status status, const nlohmann::json& body, unsigned version,
                              bool keep_alive) {
  string_response response{status, version};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::access_control_allow_origin, "*");
  // Replacing invalid UTF-8 instead of throwing: a handler's strings are not trusted.
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

string_response error_response(http::status status, std::string_view what, unsigned version,
                               bool keep_alive) {
  return json_response(status, {{"error", what}}, version, keep_alive);
}

/// A mime type from a manifest is not trusted: anything that is not a short line of
/// visible ASCII would corrupt the header.
std::string safe_mime_type(const std::string& mime_type) {
  const bool safe =
      !mime_type.empty() && mime_type.size() <= mime_type_bytes_max &&
      std::all_of(mime_type.begin(), mime_type.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  return safe ? mime_type : "application/octet-stream";
}

/// Beast 1.74's string_view is boost's.
std::string_view view(beast::string_view text) {
  return {text.data(), text.size()};
}

std::string_view path_of(beast::string_view target) {
  return view(target).substr(0, view(target).find('?'));
}

/// Compares without stopping at the first difference, so that the time an answer takes
/// does not tell a guesser how much of the token it got right.
bool same_secret(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size())
    return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < given.size(); ++i)
    difference |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return difference == 0;
}

} // namespace

struct gateway::impl {
  impl(gateway_options chosen_options, gateway_services chosen_services)
      : options(std::move(chosen_options)), services(std::move(chosen_services)) {}

  void accept();
  /// Opens a connection for `socket`, making room as gateway.hpp says, or closes it.
  void admit(tcp::socket socket);
  /// The connection to close for a new one from `address`: among those that may be
  /// closed (connection::closable), of the token slots or not, from `address` when
  /// `same_address`, else from the address with the most connections; the one that has
  /// waited longest. Null when none may be closed.
  connection* choose_closable(bool token_slots, const net::ip::address& address,
                              bool same_address) const;
  void run();
  void stop();

  const gateway_options options;
  const gateway_services services;
  // Declared before everything that uses it, so destroyed after them. Handlers it
  // still holds own connections, whose sockets it destroys while shutting down.
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  std::uint16_t port = 0;
  std::shared_ptr<liveness> alive = std::make_shared<liveness>();
  // The owners of open connections (gateway thread only). A connection is removed by
  // its own close(); pending content reads hold only a weak reference.
  std::unordered_map<connection*, std::shared_ptr<connection>> connections;
  std::thread thread;
};

namespace {

/// One HTTP/1.1 connection: read a request, answer it, repeat while keep-alive.
/// Lives on the gateway thread only.
class connection : public std::enable_shared_from_this<connection> {
public:
  using time_point = std::chrono::steady_clock::time_point;

  connection(gateway::impl& gateway, tcp::socket socket, net::ip::address address, bool token_slot)
      : gateway_(gateway), stream_(std::move(socket)), content_timer_(gateway.io),
        address_(std::move(address)), token_slot_(token_slot) {}

  /// Reads the first request: its header must be in within header_timeout_ms.
  void start();
  /// Idempotent. Closes the socket and lets the gateway drop this connection.
  void close();

  const net::ip::address& address() const { return address_; }
  bool token_slot() const { return token_slot_; }
  /// Whether the gateway may close it to make room: it waits for a request (its first
  /// byte, its header, or the body of one without the token) or lingers after its last
  /// response. One that is answering, or reading a body with the token, is busy.
  bool closable() const;
  /// Since when it waits for a request; the lingering come first.
  time_point waiting_since() const { return waiting_since_; }

private:
  // What the connection is doing: waiting for the next request on a kept-alive
  // connection, reading a request's header or body, answering, or lingering after
  // its last answer.
  enum class phase { idle, header, body, answering, lingering };

  const gateway_options& options() const { return gateway_.options; }
  void new_parser();
  void read_request();
  void read_header();
  void on_header(error_code error);
  void on_request(error_code error);
  void on_read_error(error_code error);
  bool carries_token(const http::request<http::string_body>& request) const;
  void route(http::request<http::string_body>& request);
  void send(string_response response);
  void serve_content(const http::request<http::string_body>& request, const core::content_id& id);
  void serve_api(const http::request<http::string_body>& request);
  void request_chunk();
  void on_chunk(std::uint64_t generation, content_source::read_result result);
  void on_chunk_written(error_code error, std::size_t bytes);
  void finish_response(bool keep_alive);
  void linger(std::size_t dropped_bytes);

  gateway::impl& gateway_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool closed_ = false;

  // The content response in flight: its header, then its body chunk by chunk.
  std::optional<http::response<http::empty_body>> head_;
  std::optional<http::response_serializer<http::empty_body>> head_writer_;
  core::content_id content_;
  std::uint64_t next_byte_ = 0;
  std::uint64_t remaining_bytes_ = 0;
  bool keep_alive_ = false;
  content_source::shared_bytes chunk_;
  std::size_t chunk_asked_bytes_ = 0;
  // A read completion or timeout counts only for the read it belongs to.
  std::uint64_t read_generation_ = 0;
  bool read_pending_ = false;
  net::steady_timer content_timer_;

  const net::ip::address address_;
  const bool token_slot_;
  phase phase_ = phase::header;
  time_point waiting_since_ = std::chrono::steady_clock::now();
  // The request being read or answered carries the API token.
  bool trusted_ = false;
};

void connection::start() {
  new_parser();
  read_header();
}

void connection::new_parser() {
  parser_.emplace();
  parser_->header_limit(options().request_header_bytes_max);
  parser_->body_limit(options().body_bytes_max);
  trusted_ = false;
}

void connection::read_request() {
  new_parser();
  waiting_since_ = std::chrono::steady_clock::now();
  if (buffer_.size() > 0) // the client sent its next request already
    return read_header();
  phase_ = phase::idle;
  stream_.expires_after(milliseconds(options().idle_timeout_ms));
  stream_.async_read_some(buffer_.prepare(idle_read_bytes),
                          [self = shared_from_this()](error_code error, std::size_t bytes) {
                            if (self->closed_)
                              return;
                            if (error)
                              return self->close(); // idle too long, or the client left
                            self->buffer_.commit(bytes);
                            self->read_header();
                          });
}

void connection::read_header() {
  phase_ = phase::header;
  // One deadline for the whole header, however slowly its bytes come.
  stream_.expires_after(milliseconds(options().header_timeout_ms));
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code error, std::size_t) { self->on_header(error); });
}

void connection::on_header(error_code error) {
  if (closed_)
    return;
  if (error)
    return on_read_error(error);
  trusted_ = carries_token(parser_->get());
  if (token_slot_ && !trusted_) {
    phase_ = phase::answering;
    auto response = error_response(http::status::service_unavailable,
                                   "the gateway is full: this connection is served only with the "
                                   "node's API token",
                                   parser_->get().version(), false);
    response.set(http::field::retry_after, "1");
    return send(std::move(response));
  }
  if (parser_->is_done())
    return on_request({});
  phase_ = phase::body;
  stream_.expires_after(milliseconds(options().body_timeout_ms));
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code failure, std::size_t) { self->on_request(failure); });
}

bool connection::carries_token(const http::request<http::string_body>& request) const {
  const auto& token = options().api_token;
  return !token.empty() &&
         same_secret(view(request[http::field::authorization]), "Bearer " + token);
}

bool connection::closable() const {
  switch (phase_) {
    case phase::idle:
    case phase::header:
    case phase::lingering:
      return true;
    case phase::body:
      return !trusted_; // an upload of the command line's is not cut off
    case phase::answering:
      return false;
  }
  return false;
}

void connection::close() {
  if (closed_)
    return;
  closed_ = true;
  auto self = shared_from_this(); // erasing below may drop the last other owner
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  content_timer_.cancel();
  gateway_.connections.erase(this);
}

void connection::on_request(error_code error) {
  if (closed_)
    return;
  if (error)
    return on_read_error(error);
  phase_ = phase::answering;
  auto request = parser_->release();
  route(request);
}

void connection::on_read_error(error_code error) {
  phase_ = phase::answering;
  const unsigned version = 11;
  if (error == http::error::header_limit)
    send(error_response(http::status::request_header_fields_too_large,
                        "request header over " +
                            std::to_string(options().request_header_bytes_max) + " bytes",
                        version, false));
  else if (error == http::error::body_limit)
    send(error_response(http::status::payload_too_large,
                        "request body over " + std::to_string(options().body_bytes_max) + " bytes",
                        version, false));
  else if (error.category() == http::make_error_code(http::error::bad_method).category() &&
           error != http::error::end_of_stream && error != http::error::partial_message)
    send(error_response(http::status::bad_request, "malformed request: " + error.message(), version,
                        false));
  else
    close(); // the client went away or was idle too long
}

void connection::route(http::request<http::string_body>& request) {
  const std::string_view path = path_of(request.target());
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  auto method_not_allowed = [&](const char* allow) {
    auto response =
        error_response(http::status::method_not_allowed,
                       "method not allowed; allowed: " + std::string(allow), version, keep_alive);
    response.set(http::field::allow, allow);
    send(std::move(response));
  };
  const bool get = request.method() == http::verb::get;
  if (path.starts_with(content_prefix)) {
    if (!get && request.method() != http::verb::head)
      return method_not_allowed("GET, HEAD");
    const auto id = core::content_id::from_hex(path.substr(content_prefix.size()));
    if (!id)
      return send(error_response(http::status::bad_request, "content id must be 64 hex digits",
                                 version, keep_alive));
    if (!gateway_.services.content)
      return send(error_response(http::status::not_found, "no content here", version, keep_alive));
    return serve_content(request, *id);
  }
  if (path == "/metrics") {
    if (!get)
      return method_not_allowed("GET");
    if (!gateway_.services.metrics)
      return send(error_response(http::status::not_found, "no metrics here", version, keep_alive));
    string_response response{http::status::ok, version};
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    response.body() = prometheus::TextSerializer().Serialize(gateway_.services.metrics->Collect());
    response.keep_alive(keep_alive);
    response.prepare_payload();
    return send(std::move(response));
  }
  if (path == "/healthz") {
    if (!get)
      return method_not_allowed("GET");
    return serve_api(request);
  }
  if (path == "/api" || path.starts_with("/api/")) {
    if (!get && request.method() != http::verb::post)
      return method_not_allowed("GET, POST");
    return serve_api(request);
  }
  send(error_response(http::status::not_found, "no route for " + std::string(path), version,
                      keep_alive));
}

void connection::send(string_response response) {
  auto message = std::make_shared<string_response>(std::move(response));
  stream_.expires_after(milliseconds(options().send_timeout_ms));
  http::async_write(stream_, *message,
                    [self = shared_from_this(), message](error_code error, std::size_t) {
                      if (error)
                        return self->close();
                      self->finish_response(message->keep_alive());
                    });
}

void connection::serve_api(const http::request<http::string_body>& request) {
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  if (!gateway_.services.api)
    return send(error_response(http::status::not_found, "no api here", version, keep_alive));
  api_request call{std::string(view(request.method_string())), std::string(view(request.target())),
                   request.body(), std::string(view(request[http::field::authorization]))};
  api_response answer;
  try {
    answer = gateway_.services.api(call);
  } catch (const std::exception& error) {
    return send(error_response(http::status::internal_server_error,
                               std::string("api handler failed: ") + error.what(), version,
                               keep_alive));
  } catch (...) {
    return send(error_response(http::status::internal_server_error, "api handler failed", version,
                               keep_alive));
  }
  const auto status = answer.status >= 100 && answer.status <= 599
                          ? static_cast<http::status>(answer.status)
                          : http::status::internal_server_error;
  send(json_response(status, answer.body, version, keep_alive));
}

void connection::serve_content(const http::request<http::string_body>& request,
                               const core::content_id& id) {
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  std::optional<content_source::description> description;
  try {
    description = gateway_.services.content->describe(id);
  } catch (const std::exception& error) {
    return send(error_response(http::status::internal_server_error,
                               std::string("content source failed: ") + error.what(), version,
                               keep_alive));
  }
  if (!description)
    return send(error_response(http::status::not_found, "unknown content " + id.to_hex(), version,
                               keep_alive));
  const std::uint64_t size = description->size_bytes;
  const served_range range = resolve_range(view(request[http::field::range]), size);
  if (range.kind == range_kind::unsatisfiable) {
    auto response = error_response(http::status::range_not_satisfiable, "range not satisfiable",
                                   version, keep_alive);
    response.set(http::field::content_range, "bytes */" + std::to_string(size));
    return send(std::move(response));
  }
  head_writer_.reset(); // it refers to the previous head
  head_.emplace(range.kind == range_kind::partial ? http::status::partial_content
                                                  : http::status::ok,
                version);
  head_->set(http::field::content_type, safe_mime_type(description->mime_type));
  head_->set(http::field::accept_ranges, "bytes");
  head_->set(http::field::access_control_allow_origin, "*");
  if (range.kind == range_kind::partial)
    head_->set(http::field::content_range, "bytes " + std::to_string(range.first_byte) + "-" +
                                               std::to_string(range.last_byte()) + "/" +
                                               std::to_string(size));
  head_->content_length(range.length_bytes);
  head_->keep_alive(keep_alive);
  head_writer_.emplace(*head_);

  content_ = id;
  next_byte_ = range.first_byte;
  remaining_bytes_ = request.method() == http::verb::head ? 0 : range.length_bytes;
  keep_alive_ = keep_alive;
  stream_.expires_after(milliseconds(options().send_timeout_ms));
  http::async_write_header(stream_, *head_writer_,
                           [self = shared_from_this()](error_code error, std::size_t) {
                             if (error)
                               return self->close();
                             if (self->remaining_bytes_ == 0)
                               return self->finish_response(self->keep_alive_);
                             self->request_chunk();
                           });
}

void connection::request_chunk() {
  chunk_asked_bytes_ =
      static_cast<std::size_t>(std::min<std::uint64_t>(options().chunk_bytes, remaining_bytes_));
  const std::uint64_t generation = ++read_generation_;
  read_pending_ = true;
  content_timer_.expires_after(milliseconds(options().content_timeout_ms));
  content_timer_.async_wait([self = shared_from_this(), generation](error_code error) {
    if (!error && self->read_pending_ && self->read_generation_ == generation) {
      spdlog::debug("gateway: content read timed out; closing the connection");
      self->close();
    }
  });
  auto done = [weak = weak_from_this(), alive = gateway_.alive,
               executor = gateway_.io.get_executor(),
               generation](content_source::read_result result) mutable {
    std::lock_guard lock(alive->mutex);
    if (alive->stopped)
      return;
    net::post(executor, [weak, generation, result = std::move(result)]() mutable {
      if (auto self = weak.lock())
        self->on_chunk(generation, std::move(result));
    });
  };
  try {
    gateway_.services.content->read(content_, next_byte_, chunk_asked_bytes_, std::move(done));
  } catch (const std::exception& error) {
    spdlog::warn("gateway: content source failed: {}", error.what());
    close();
  }
}

void connection::on_chunk(std::uint64_t generation, content_source::read_result result) {
  if (closed_ || !read_pending_ || generation != read_generation_)
    return; // late, duplicate, or after a timeout
  read_pending_ = false;
  content_timer_.cancel();
  if (const auto* error = std::get_if<std::string>(&result)) {
    spdlog::debug("gateway: content read failed mid-body: {}", *error);
    return close(); // the client sees a short body
  }
  chunk_ = std::move(std::get<content_source::shared_bytes>(result));
  if (chunk_.view.empty() || chunk_.view.size() > chunk_asked_bytes_) {
    spdlog::warn("gateway: content source returned {} bytes for {} asked", chunk_.view.size(),
                 chunk_asked_bytes_);
    return close();
  }
  stream_.expires_after(milliseconds(options().send_timeout_ms));
  net::async_write(stream_, net::buffer(chunk_.view.data(), chunk_.view.size()),
                   [self = shared_from_this()](error_code error, std::size_t bytes) {
                     self->on_chunk_written(error, bytes);
                   });
}

void connection::on_chunk_written(error_code error, std::size_t bytes) {
  if (error)
    return close(); // the client went away mid-stream
  next_byte_ += bytes;
  remaining_bytes_ -= bytes;
  if (remaining_bytes_ > 0)
    return request_chunk();
  chunk_ = {}; // an idle keep-alive connection holds no chunk
  finish_response(keep_alive_);
}

void connection::finish_response(bool keep_alive) {
  if (closed_)
    return;
  if (keep_alive)
    return read_request();
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored); // the client reads EOF
  stream_.expires_after(milliseconds(linger_ms));
  phase_ = phase::lingering;
  waiting_since_ = time_point::min(); // done: the first to go when room is needed
  linger(0);
}

void connection::linger(std::size_t dropped_bytes) {
  buffer_.consume(buffer_.size());
  stream_.async_read_some(
      buffer_.prepare(linger_read_bytes),
      [self = shared_from_this(), dropped_bytes](error_code error, std::size_t bytes) {
        if (error || dropped_bytes + bytes > linger_bytes_max)
          return self->close(); // EOF (the client is done), a timeout, or too much
        self->buffer_.commit(bytes);
        self->linger(dropped_bytes + bytes);
      });
}

} // namespace

void gateway::impl::accept() {
  acceptor.async_accept([this](error_code error, tcp::socket socket) {
    if (!acceptor.is_open())
      return;    // stopping
    if (error) { // out of descriptors, for instance: try again a little later
      spdlog::warn("gateway: accept failed: {}", error.message());
      accept_retry.expires_after(milliseconds(accept_retry_ms));
      accept_retry.async_wait([this](error_code wait_error) {
        if (!wait_error)
          accept();
      });
      return;
    }
    admit(std::move(socket));
    accept();
  });
}

void gateway::impl::admit(tcp::socket socket) {
  error_code failure;
  const auto address = socket.remote_endpoint(failure).address();
  if (failure)
    return; // gone already; the socket closes as it goes out of scope
  std::size_t regular = 0, of_address = 0, token = 0;
  for (const auto& [raw, open] : connections) {
    if (open->token_slot()) {
      ++token;
      continue;
    }
    ++regular;
    of_address += open->address() == address;
  }
  const bool address_full = of_address >= options.connections_per_address_max;
  bool token_slot = false;
  if (address_full || regular >= options.connections_max) {
    const bool token_slots = !options.api_token.empty() && options.token_connections_max > 0;
    if (auto* closed = choose_closable(false, address, address_full)) {
      spdlog::debug("gateway: closing a connection waiting for a request to make room");
      closed->close();
    } else if (token_slots && token < options.token_connections_max) {
      token_slot = true;
    } else if (auto* taken = token_slots ? choose_closable(true, address, false) : nullptr) {
      taken->close();
      token_slot = true;
    } else {
      spdlog::debug("gateway: every connection is busy; closing a new one from {}",
                    address.to_string());
      error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      return;
    }
  }
  auto opened = std::make_shared<connection>(*this, std::move(socket), address, token_slot);
  connections.emplace(opened.get(), opened);
  opened->start();
}

connection* gateway::impl::choose_closable(bool token_slots, const net::ip::address& address,
                                           bool same_address) const {
  // A scan per full accept: connections_max is at most a few thousand.
  std::map<net::ip::address, std::size_t> per_address;
  for (const auto& [raw, open] : connections)
    if (open->token_slot() == token_slots)
      ++per_address[open->address()];
  connection* chosen = nullptr;
  std::size_t chosen_count = 0;
  for (const auto& [raw, open] : connections) {
    if (open->token_slot() != token_slots || !open->closable() ||
        (same_address && open->address() != address))
      continue;
    const std::size_t count = per_address[open->address()];
    if (chosen == nullptr || count > chosen_count ||
        (count == chosen_count && open->waiting_since() < chosen->waiting_since())) {
      chosen = raw;
      chosen_count = count;
    }
  }
  return chosen;
}

void gateway::impl::run() {
  while (true) {
    try {
      io.run();
      return;
    } catch (const std::exception& error) {
      spdlog::error("gateway: {}", error.what()); // keep serving the other connections
    }
  }
}

void gateway::impl::stop() {
  {
    std::lock_guard lock(alive->mutex);
    alive->stopped = true;
  }
  net::post(io, [this] {
    error_code ignored;
    acceptor.close(ignored);
    accept_retry.cancel();
    while (!connections.empty())
      connections.begin()->second->close();
    io.stop();
  });
  if (thread.joinable())
    thread.join();
}

std::unique_ptr<gateway> gateway::start(gateway_options options, gateway_services services,
                                        std::string& error) {
  if (options.connections_max == 0 || options.connections_per_address_max == 0 ||
      options.chunk_bytes == 0 || options.request_header_bytes_max == 0 ||
      options.header_timeout_ms == 0 || options.idle_timeout_ms == 0 ||
      options.body_timeout_ms == 0 || options.send_timeout_ms == 0 ||
      options.content_timeout_ms == 0) {
    error = "gateway: connections_max, connections_per_address_max, chunk_bytes, "
            "request_header_bytes_max and the timeouts must be positive";
    return nullptr;
  }
  auto state = std::make_unique<impl>(std::move(options), std::move(services));
  error_code failure;
  const auto address = net::ip::make_address(state->options.address, failure);
  if (failure) {
    error = "gateway: bad address '" + state->options.address + "': " + failure.message();
    return nullptr;
  }
  const tcp::endpoint endpoint{address, state->options.port};
  auto& acceptor = state->acceptor;
  acceptor.open(endpoint.protocol(), failure);
  if (!failure)
    acceptor.set_option(net::socket_base::reuse_address(true), failure);
  if (!failure)
    acceptor.bind(endpoint, failure);
  if (!failure)
    acceptor.listen(net::socket_base::max_listen_connections, failure);
  if (!failure)
    state->port = acceptor.local_endpoint(failure).port();
  if (failure) {
    error = "gateway: cannot listen on " + state->options.address + ":" +
            std::to_string(state->options.port) + ": " + failure.message();
    return nullptr;
  }
  state->accept();
  state->thread = std::thread([raw = state.get()] { raw->run(); });
  return std::unique_ptr<gateway>(new gateway(std::move(state)));
}

gateway::gateway(std::unique_ptr<impl> state) : impl_(std::move(state)) {
}

gateway::~gateway() {
  impl_->stop();
}

std::uint16_t gateway::port() const noexcept {
  return impl_->port;
}

} // namespace stakecast::node
