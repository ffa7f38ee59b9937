"""The notifier: waits end on events after the mark, and never miss one taken before."""

from __future__ import annotations

import asyncio
import threading

from app.core.notify import Notifier


def test_an_event_after_the_mark_ends_a_wait_and_one_before_it_does_not() -> None:
    notifier = Notifier()
    notifier.notify()
    mark = notifier.mark()
    assert not notifier.wait(mark, 0.01)  # the earlier event is not after the mark
    notifier.notify()  # between the mark and the wait: still seen
    assert notifier.wait(mark, 0)


def test_a_thread_waiting_is_woken_by_another_thread() -> None:
    notifier = Notifier()
    mark = notifier.mark()
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(notifier.wait(mark, 60)))
    waiter.start()
    notifier.notify()
    waiter.join()
    assert woken == [True]


def test_coroutines_are_woken_from_another_thread_and_time_out_otherwise() -> None:
    notifier = Notifier()

    async def scenario() -> tuple[bool, bool, bool]:
        mark = notifier.mark()
        timed_out = await notifier.wait_async(mark, 0.01)
        waiting = asyncio.create_task(notifier.wait_async(mark, 60))
        await asyncio.sleep(0)  # let the task register before the other thread notifies
        threading.Thread(target=notifier.notify).start()
        woken = await waiting
        already = await notifier.wait_async(mark, 60)  # the event came before this wait
        return timed_out, woken, already

    assert asyncio.run(scenario()) == (False, True, True)
    assert not notifier._futures  # no waiter left behind


def test_a_waiter_on_a_topic_is_woken_by_its_topic_or_by_everything_only() -> None:
    notifier = Notifier()
    mine, other = ("submission", 1), ("submission", 2)

    async def scenario() -> tuple[bool, bool, bool, bool]:
        mark = notifier.mark()
        waiting = asyncio.create_task(notifier.wait_async(mark, 60, mine))
        await asyncio.sleep(0)  # registered before the events below
        notifier.notify(other)
        not_mine = await notifier.wait_async(mark, 0.01, mine)
        still_waiting = not waiting.done()
        notifier.notify(other, mine)
        woken = await waiting
        everything = notifier.mark()
        notifier.notify()  # about everything: concerns every topic
        return not_mine, still_waiting, woken, await notifier.wait_async(everything, 60, mine)

    assert asyncio.run(scenario()) == (False, True, True, True)
    assert not notifier._futures


def test_an_event_on_the_topic_before_the_wait_is_seen_even_among_many_others() -> None:
    notifier = Notifier()
    mine = ("submission", 7)

    async def scenario() -> tuple[bool, bool]:
        mark = notifier.mark()
        notifier.notify(mine)
        for other in range(100):
            notifier.notify(("submission", 100 + other))
        seen = await notifier.wait_async(mark, 60, mine)
        later = notifier.mark()
        notifier.notify(("submission", 8))
        return seen, await notifier.wait_async(later, 0.01, mine)

    assert asyncio.run(scenario()) == (True, False)


def test_a_mark_older_than_what_is_remembered_wakes_at_once() -> None:
    notifier = Notifier()
    mark = notifier.mark()
    for other in range(5000):  # more events than the notifier remembers the topics of
        notifier.notify(("submission", other))
    # It cannot tell whether one of the forgotten events was about this topic: a spurious
    # wake-up (the waiter re-reads the database) rather than a missed one.
    assert asyncio.run(notifier.wait_async(mark, 60, ("submission", -1)))
