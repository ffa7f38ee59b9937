"""Evaluation: turning a stored submission into a decision (docs/architecture.md).

The upload-time check (``checks``), the sandbox and its child (``sandbox``, ``child``), the
round inputs and cached decision state (``cache``), deciding (``decide``), recording the verdict
(``verdicts``) and replaying a round (``replay``).
"""
