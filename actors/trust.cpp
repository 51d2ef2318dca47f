// The trust rule for senders: this node, or a node that proved the cookie; nobody anonymous.
#include "actors/trust.hpp"

namespace watercooler {

void trusted_nodes::add(const caf::node_id& node) {
  std::lock_guard<std::mutex> guard(mutex_);
  nodes_.insert(node);
}

void trusted_nodes::remove(const caf::node_id& node) {
  std::lock_guard<std::mutex> guard(mutex_);
  nodes_.erase(node);
}

bool trusted_nodes::contains(const caf::node_id& node) const {
  std::lock_guard<std::mutex> guard(mutex_);
  return nodes_.count(node) > 0;
}

caf::node_id sender_node(caf::local_actor* self) {
  const auto& sender = self->current_sender();
  return sender ? sender->node() : caf::node_id{};
}

bool from_this_node(caf::local_actor* self) {
  const auto& sender = self->current_sender();
  return sender && sender->node() == self->node();
}

bool from_trusted_node(caf::local_actor* self, const trusted_nodes& trusted) {
  const auto& sender = self->current_sender();
  return sender && (sender->node() == self->node() || trusted.contains(sender->node()));
}

} // namespace watercooler
