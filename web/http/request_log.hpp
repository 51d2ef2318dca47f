// One line per request, in the spirit of Raxx.Logger: "GET / Sent 200 in 412µs".
#pragma once

#include <string>

#include <httplib.h>

namespace watercooler {

// Marks the start of the request being handled on this thread.
void request_started();

// Logs the request handled on this thread, with the time since request_started(), as from
// `client` (the TCP peer `req.remote_addr` when empty).
void log_request(const httplib::Request& req, const httplib::Response& res,
                 const std::string& client = {});

// "412µs", "3.1ms", "2.4s"
std::string format_duration(long long microseconds);

} // namespace watercooler
