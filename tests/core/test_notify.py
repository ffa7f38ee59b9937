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
