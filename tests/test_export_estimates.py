"""The preview's size estimate is close to what each format really writes."""

from __future__ import annotations

import pytest

from claudelens_nb.demo import seed_demo
from claudelens_nb.exports import export, preview
from claudelens_nb.exports.options import FORMATS


@pytest.mark.parametrize("sessions, messages", [(20, 30), (6, 70)])
def test_estimates_are_within_a_third_of_the_real_size(db, sessions, messages):
    seed_demo(db, sessions=sessions, messages_per_session=messages, seed=11)
    estimated = preview(None, db=db).estimated_bytes
    for fmt in FORMATS:
        real = export(None, fmt, db=db).size
        assert 0.75 < estimated[fmt] / real < 1.33, (fmt, estimated[fmt], real)
