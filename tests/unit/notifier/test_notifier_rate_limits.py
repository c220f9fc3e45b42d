"""Per-channel rate limits: beyond the limit, non-critical messages fold into one overflow
message sent when the window allows; critical ones always go, and nothing is dropped."""

from datetime import timedelta

from notifier_world import World, alert, critical, keys, rule

from stockwire.notifier.domain.dispatcher import Configuration
from stockwire.notifier.domain.rate_limits import RateLimit

S = timedelta(seconds=1)
PER_LOCATION = rule("per location", group_by=("location",), channels=("chat", "email"))


def limited(messages: int = 2, per: timedelta = 60 * S) -> World:
    return World(
        Configuration(rules=(PER_LOCATION,), rate_limits={"chat": RateLimit(messages, per)})
    )


def test_messages_beyond_the_limit_fold_into_one_overflow_sent_when_the_window_allows() -> None:
    # Given chat takes 2 messages a minute, email has no limit
    w = limited()
    # When 5 groups fall due at once
    w.raise_(*(alert(f"a{i}", location=f"L{i}") for i in range(5)))
    messages = w.advance(30 * S)
    # Then chat gets 2 of them now, email all 5
    assert sorted(m.channel for m in messages).count("chat") == 2
    assert sorted(m.channel for m in messages).count("email") == 5
    # And the other 3 go to chat as ONE overflow message once the minute has passed
    assert [m for m in w.advance(59 * S) if m.channel == "chat"] == []
    [overflow] = w.advance(S)
    assert (overflow.channel, overflow.purpose, overflow.rule_id) == ("chat", "overflow", None)
    chat_told = set().union(*(keys(m) for m in w.sent if m.channel == "chat"))
    assert chat_told == {f"a{i}" for i in range(5)}


def test_the_window_slides() -> None:
    w = limited(messages=2, per=60 * S)
    w.raise_(alert("a", location="L1"))
    w.advance(30 * S)  # chat send 1 at 30 s
    w.advance(20 * S)
    w.raise_(alert("b", location="L2"))
    w.advance(30 * S)  # chat send 2 at 80 s
    w.raise_(alert("c", location="L3"))
    # c is due at 110 s: the send at 30 s has left the window by then, so c goes as itself
    later = [m for m in w.advance(30 * S) if m.channel == "chat"]
    assert [(m.purpose, keys(m)) for m in later] == [("alert", {"c"})]


def test_critical_messages_ignore_the_limit_but_count_against_it() -> None:
    w = limited(messages=1)
    urgent = rule("urgent", 0, channels=("chat",))
    w.config = Configuration(rules=(urgent,), rate_limits=w.config.rate_limits)
    # Three criticals in a row all go out at once
    sent = w.raise_(critical("c1"), critical("c2"), critical("c3"))
    assert [keys(m) for m in sent] == [{"c1"}, {"c2"}, {"c3"}]
    # And a warning then waits for room
    w.raise_(alert("w1"))
    assert w.advance(59 * S) == []
    [overflow] = w.advance(S)
    assert (overflow.purpose, keys(overflow)) == ("overflow", {"w1"})


def test_an_alert_resolved_while_in_the_overflow_is_taken_out_and_gets_no_follow_up() -> None:
    w = limited(messages=1)
    first, second = alert("a", location="L1"), alert("b", location="L2")
    w.raise_(first, second)
    w.advance(30 * S)
    # One of them went out on chat, the other waits in the overflow
    waiting = w.state.channels["chat"].overflow[0]
    told = next(m for m in w.sent if m.channel == "chat").alerts[0]
    follow_ups = w.resolve(waiting)
    assert [m.channel for m in follow_ups] == ["email"]
    assert w.state.channels["chat"].overflow == []
    assert told.dedup_key != waiting.dedup_key


def test_resolved_follow_ups_over_the_limit_are_folded_too() -> None:
    w = limited(messages=1)
    storm = [alert(f"a{i}", location=f"L{i}") for i in range(3)]
    w.raise_(*storm)
    w.advance(30 * S)
    w.advance(5 * 60 * S, step=10 * S)
    # When all three resolve in the same second, chat has room for one message only
    chat = [m for m in w.resolve(*storm) if m.channel == "chat"]
    assert [m.purpose for m in chat] == ["resolved"]
    # And the other two resolutions come in one overflow a minute later
    [overflow] = [m for m in w.advance(60 * S) if m.channel == "chat"]
    assert overflow.purpose == "overflow" and len(overflow.resolutions) == 2


def test_next_wakeup_says_when_the_overflow_can_go() -> None:
    w = limited(messages=1)
    w.raise_(alert("a", location="L1"), alert("b", location="L2"))
    w.advance(30 * S)
    assert w.dispatcher.next_wakeup(w.state) == w.now + 60 * S
