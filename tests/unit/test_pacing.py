"""The pacing policy: bytes and probes in flight, fairness, first contact (pure, virtual time)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from jumbopath.pacing import BUFFER_SHARE, Pacer, PacingConfig


def pacer(**kw: float) -> Pacer:
    base = {"max_bytes": 100_000, "contact_burst": 1000, "first_contacts": 1000}
    return Pacer(PacingConfig(**{**base, **kw}))  # type: ignore[arg-type]


def test_bound_follows_the_receive_buffer() -> None:
    assert PacingConfig.for_buffer(16 << 20).max_bytes == int((16 << 20) * BUFFER_SHARE)
    # A small buffer (no CAP_NET_ADMIN, default rmem_max) still lets something out.
    assert PacingConfig.for_buffer(0).max_bytes == 1


def test_jumbo_probes_are_charged_like_the_kernel_charges_buffers() -> None:
    p = pacer()
    assert p.charge(9000) > 2 * 9000 > p.charge(84) * 10


def test_full_bytes_in_flight_hold_everyone_back_until_answers_come() -> None:
    p = pacer(max_bytes=3 * 18_512)
    for token in range(3):
        assert p.admit(token, 0.0, senders=10)
        p.sent(token, token, 9000, 0.0)
    assert not p.admit(99, 0.0, senders=10)
    assert not p.admit(0, 0.0, senders=10)
    p.answered(1, 0.01)
    assert p.admit(99, 0.01, senders=10)
    assert p.bytes_in_flight == 2 * p.charge(9000)


def test_packet_bound() -> None:
    p = pacer(max_packets=4)
    for token in range(4):
        p.sent(token, "a", 84, 0.0)
    assert not p.admit("b", 0.0)


def test_a_target_over_its_share_waits_while_one_with_nothing_out_goes() -> None:
    p = pacer(max_bytes=100_000)
    for token in range(3):
        p.sent(token, "greedy", 9000, 0.0)  # 55 kB of a 100 kB bound
    assert p.held_by("greedy") == 3 * p.charge(9000)
    assert not p.admit("greedy", 0.0, senders=2)  # share: 50 kB
    assert p.admit("idle", 0.0, senders=2)
    assert p.admit("greedy", 0.0, senders=1)  # alone, it may use it all


def test_unanswered_probes_stop_counting_after_hold() -> None:
    p = pacer(max_bytes=18_000, hold_s=1.0)
    p.sent(1, "a", 9000, 0.0)
    assert not p.admit("b", 0.5)
    assert p.next_change(0.5) == 1.0
    p.expire(0.99)
    assert p.packets_in_flight == 1
    p.expire(1.0)
    assert p.packets_in_flight == 0 and p.held_by("a") == 0
    assert p.admit("b", 1.0)


def test_first_contacts_are_bounded_at_once() -> None:
    p = pacer(first_contacts=2)
    p.sent(1, "a", 84, 0.0)
    p.sent(2, "b", 84, 0.0)
    assert not p.admit("c", 0.0)
    assert p.admit("a", 0.0)  # already in contact: only the byte bounds apply
    p.answered(1, 0.001)  # a answered: known now
    assert p.admit("c", 0.001)


def test_a_silent_first_contact_frees_its_slot_after_hold() -> None:
    p = pacer(first_contacts=1, hold_s=1.0)
    p.sent(1, "dead", 84, 0.0)
    assert not p.admit("next", 0.5)
    p.expire(1.0)
    assert p.admit("next", 1.0)


def test_first_contacts_beyond_the_burst_follow_the_rate() -> None:
    p = pacer(contact_burst=3, contact_rate_per_s=100.0)
    for i in range(3):
        assert p.admit(i, 0.0)
        p.sent(i, i, 84, 0.0)
        p.answered(i, 0.0)
    assert not p.admit("late", 0.0)
    wake = p.next_change(0.0)
    assert wake is not None and abs(wake - 0.01) < 1e-9
    assert p.admit("late", 0.01)
    # Known targets are never held back by first-contact pacing.
    assert p.admit(0, 0.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["send", "answer", "expire"]),
            st.integers(0, 7),  # target
            st.sampled_from([84, 1500, 9000]),
            st.floats(0.0, 0.3),  # time step
        ),
        max_size=200,
    )
)
def test_bounds_hold_under_any_event_order(events: list[tuple[str, int, int, float]]) -> None:
    """A sender that asks first never takes the bytes in flight past one probe over the bound,
    and the books always balance."""
    cfg = PacingConfig(max_bytes=60_000, max_packets=10, hold_s=0.5)
    p = Pacer(cfg)
    now = 0.0
    token = 0
    out: dict[int, int] = {}
    for kind, who, size, step in events:
        now += step
        p.expire(now)
        if kind == "send" and p.admit(who, now, senders=8):
            token += 1
            p.sent(token, who, size, now)
            out[token] = who
        elif kind == "answer" and out:
            oldest = next(iter(out))
            p.answered(oldest, now)
            del out[oldest]
        assert p.bytes_in_flight <= cfg.max_bytes + p.charge(9000)
        assert p.packets_in_flight <= cfg.max_packets
        assert p.bytes_in_flight == sum(p.held_by(w) for w in range(8))
        assert p.bytes_in_flight >= 0
