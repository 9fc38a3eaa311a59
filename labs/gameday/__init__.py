"""Game day: a game master (GM) runs the wheel of misfortune for a team of responders.

The GM picks (or draws) a drill and schedules its fault; responders join with a role -- incident commander
(``ic``), operations (``ops``), scribe (``scribe``) -- and work the incident on one shared timeline; the GM
can inject a second fault or whisper a hint to one responder; the end stops the drill(s) through the drill
engine and writes a debrief that scores each role.

Why a small HTTP server of its own (``python -m labs.gameday``, started by ``aiops-lab gameday start`` on a
free loopback port, or ``AIOPS_GAMEDAY_PORT``) and not files in the state dir or routes on the pager:

* secrecy needs an enforcer. Participants are several terminals on one host, often one Unix account: a file
  every terminal can read cannot keep the GM's fault from a responder. A server can, by token scope
  (``gm`` sees the cause, ``responder`` does not; ``labs.gameday.auth``).
* the pager is part of the incident. Its process is a thing a drill may break and a responder may restart
  (``aiops-lab service restart pager``); a game must outlive its own incident, and the pager's single lab
  token has no notion of people or roles.
* one writer. The timeline is appended by one process, so entries from four terminals never interleave
  half-written; it is JSONL in ``<state>/gameday/`` so a restarted server (``aiops-lab gameday resume``)
  loses nothing.

The server runs the drill engine itself (``labs.gameday.conductor``): the scheduled start, the second fault
and the end happen in the one long-lived process, not in a CLI a GM might close.
"""
