// Inspect fan-in: asks several actors for their part of a report at once, answers with the whole.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
namespace watercooler {

// In a (report) or (actors) handler:
//   inspect_fan_in<node_report> fan_in{self, std::move(report)};
//   fan_in.ask<session_report>(session, describe_atom::value,
//                              [](node_report& r, session_report s) { ... });
//   return fan_in.answer();
// The report goes out once every actor asked has answered or failed to within `timeout`: one
// that does not answer is left out rather than holding the rest.
template <class Report>
class inspect_fan_in {
public:
  inspect_fan_in(caf::event_based_actor* self, Report report,
                 std::chrono::milliseconds timeout = std::chrono::seconds(1))
      : self_(self), timeout_(timeout), shared_(std::make_shared<shared>(shared{
                                          std::move(report), self->make_response_promise<Report>(),
                                          1, // answer() is still to come
                                        })) {}

  // Sends (question) to `target`, such as (describe); `add(report, answer)` files its answer of
  // type Answer.
  template <class Answer, class Question, class Add>
  void ask(const caf::actor& target, Question question, Add add) {
    ++shared_->pending;
    auto state = shared_;
    self_->request(target, timeout_, question)
      .then(
        [state, add](Answer& answer) mutable {
          add(state->report, std::move(answer));
          settle(*state);
        },
        [state](const caf::error&) { settle(*state); });
  }

  // What the handler returns: the report, now if nobody was asked, else once all have answered.
  caf::typed_response_promise<Report> answer() {
    auto promise = shared_->promise;
    settle(*shared_);
    return promise;
  }

private:
  struct shared {
    Report report;
    caf::typed_response_promise<Report> promise;
    std::size_t pending;
  };

  static void settle(shared& state) {
    if (--state.pending == 0)
      state.promise.deliver(std::move(state.report));
  }

  caf::event_based_actor* self_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<shared> shared_;
};

} // namespace watercooler
