"""The unit's privileged actions, each behind one small root helper (issue 22, finding 13).

The services run as the unprivileged user ``presensi``; the few things that need root — restart
one of the unit's own services, reboot, step the clock, read the unit's own journal — are asked
of ``presensi-privileged`` over a Unix socket that systemd opens (socket activation, one helper
process per connection). Two sockets, each with its own group, give each caller exactly the
right it needs:

* ``/run/presensi-privileged.sock`` (group ``presensi-admin``; only the kiosk service, which
  serves the maintenance page, has the group): restart, reboot, set-time, logs;
* ``/run/presensi-clock.sock`` (group ``presensi-clock``; the port-4370 server, for a connector
  application's SetTime): set-time only.

The network-facing sync and targets services have neither group. The wire format is one line of
JSON each way (:mod:`core.privileged_protocol`); the helper (:mod:`kiosk.privileged.helper`)
imports nothing but the standard library and this package, so it starts quickly per request.
"""
