// Presence as JSON: the body of GET /presence and the `event: presence` of JSON streams.
#pragma once

#include <string>

#include "actors/logic/presence_tracker.hpp"

namespace watercooler {

// {"count":n,"listeners":n,"people":[{"person":"<tag>","name":"…","nodes":["…"]},…]}
std::string presence_json(const presence_view& view);

// The first presence event of a JSON stream: {"type":"snapshot",…presence_json…,"you":"<tag>"
// or null,"refused":null or "address" or "total"}; `you` is the stream's own person, `refused`
// why its client is counted as an anonymous listener instead.
std::string presence_snapshot_event(const presence_view& view, const std::string& you,
                                    const std::string& refused);

// Each change after it: {"type":"join"|"leave"|"update","person":"<tag>","name":"…",
// "nodes":[…],"count":n,"listeners":n}, or {"type":"listeners","count":n,"listeners":n}.
std::string presence_change_event(const presence_change& change);

} // namespace watercooler
