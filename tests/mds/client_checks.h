// Boost.Test helpers shared by the tests that drive an MDS through the client
// library: connect or fail the test, call and require an errno.
#pragma once

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "client/client.h"
#include "fs/ops.h"

namespace baton::testing {

// A client session with `addr`; call_timeout_ms < 0 waits forever.
inline std::unique_ptr<client::Client> ConnectOrFail(const std::string& addr, int64_t call_timeout_ms) {
  client::ClientOptions o;
  o.call_timeout_ms = call_timeout_ms;
  auto c = client::Client::Connect({addr}, o);
  BOOST_REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return std::move(c).value();
}

// Calls and requires an answer with exactly `want_err`.
inline fs::Reply MustCall(client::Client& c, const fs::Request& r, int want_err = 0) {
  StatusOr<fs::Reply> rep = c.Call(r);
  BOOST_REQUIRE_MESSAGE(rep.ok(), rep.status().ToString());
  BOOST_REQUIRE_MESSAGE(rep->err == want_err, fs::OpName(r.op) << ": err " << rep->err << ", wanted " << want_err);
  return std::move(rep).value();
}

}  // namespace baton::testing
