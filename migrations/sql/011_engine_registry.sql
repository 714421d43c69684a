-- The live engines (docs/architecture.md#the-first-step-handed-to-an-engine). Each engine keeps its row fresh about
-- once a second and deletes it when it stops. A start hands its run's first step straight to one of them: the start
-- statement leases the item to that engine and NOTIFYs it on `channel`, so the first request leaves without a claim.
-- An engine is handed runs only while its LISTEN connection's backend (`listen_pid`) is alive: a process that dies
-- closes that connection at once, so runs stop going to it within milliseconds. `expires_at` covers the rest (a row
-- left by an engine whose last refresh is old). What was handed to it just before it died is claimed again when its
-- lease expires, like the runs it was working on.
create table engines (
  id          text        primary key,
  -- the LISTEN channel the engine takes handed items on, and the pid of the backend listening on it
  channel     text        not null,
  listen_pid  int         not null,
  -- the lease a handed item gets (the engine's ENGINE_LEASE_MS)
  lease_ms    int         not null check (lease_ms > 0),
  -- attempts it could start now, as of its last refresh; 0 = hand it nothing
  free_slots  int         not null check (free_slots >= 0),
  expires_at  timestamptz not null
);
