"""Rigs the benchmarks and the tests share, kept out of the installed package.

* :mod:`.baseline` - the benchmark's baseline secure call: the same SIP stack over
  certificate TLS with the SRTP keys in the SDP (:mod:`.sdes`, RFC 4568 ``a=crypto``);
* :mod:`.loadgen` - the operator service under load: concurrent onboardings, duplicates, a
  service process killed and restarted, then the exactly-once checks.

The benchmarks import it as ``testbed`` (it sits beside them), the tests as
``bench.testbed``.  Nothing in ``spec``, ``model``, ``impl`` or ``attacks`` imports it
(tests/test_layers.py), so a wheel never needs it.
"""
