-- A prepaid call cycle as a plain PostgreSQL client would write it: the reference that
-- `strowger bench-ledger --postgres`'s PostgreSQL backend is compared with (README, "Ledger").
-- Two transactions, as the SCP's two trips: the admission (lock the account, reserve, store
-- the reservation and the idempotency row) and the settlement (lock, charge and release,
-- delete the reservation, two idempotency rows). Statements one round trip each, no batching.
-- Same tables as the backend (`strowger serve` with [ledger] backend = "postgres" creates them).
--
--   U=postgres://strowger:strowger@127.0.0.1:55432/strowger
--   psql $U -c "INSERT INTO strowger_account (id, balance, state, opening)
--       SELECT 'PGB-' || g, 1000000000000, 'active', 1000000000000
--       FROM generate_series(0, 99999) g ON CONFLICT DO NOTHING"
--   pgbench -n -M prepared -c 16 -j 2 -T 8 -f benches/pgbench_cycle.sql $U   # tps = cycles/s
--   psql $U -c "DELETE FROM strowger_op WHERE account LIKE 'PGB-%'" \
--       -c "DELETE FROM strowger_reservation WHERE account LIKE 'PGB-%'" \
--       -c "DELETE FROM strowger_account WHERE id LIKE 'PGB-%'"
\set a random(0, 99999)
\set c random(1, 9000000000000)
BEGIN;
SELECT a.balance, a.reserved, r.amount, o.kind FROM strowger_account a
  LEFT JOIN strowger_reservation r ON r.account = a.id AND r.call = :c
  LEFT JOIN strowger_op o ON o.account = a.id AND o.call = :c AND o.seq = 0
  WHERE a.id = 'PGB-' || :a FOR UPDATE OF a;
UPDATE strowger_account SET reserved = reserved + 600
  WHERE id = 'PGB-' || :a AND balance >= reserved + 600;
INSERT INTO strowger_reservation (account, call, amount, deadline)
  VALUES ('PGB-' || :a, :c, 600, 2000000000)
  ON CONFLICT (account, call) DO UPDATE SET amount = EXCLUDED.amount;
INSERT INTO strowger_op (account, call, seq, kind, amount, at)
  VALUES ('PGB-' || :a, :c, 0, 1, 600, 1) ON CONFLICT DO NOTHING;
COMMIT;
BEGIN;
SELECT a.balance, a.reserved, r.amount, o.kind FROM strowger_account a
  LEFT JOIN strowger_reservation r ON r.account = a.id AND r.call = :c
  LEFT JOIN strowger_op o ON o.account = a.id AND o.call = :c AND o.seq = 1
  WHERE a.id = 'PGB-' || :a FOR UPDATE OF a;
UPDATE strowger_account SET balance = balance - 250, reserved = reserved - 600,
    charged = charged + 250
  WHERE id = 'PGB-' || :a AND balance - 250 >= reserved - 600;
DELETE FROM strowger_reservation WHERE account = 'PGB-' || :a AND call = :c;
INSERT INTO strowger_op (account, call, seq, kind, amount, at)
  VALUES ('PGB-' || :a, :c, 1, 2, 250, 1) ON CONFLICT DO NOTHING;
INSERT INTO strowger_op (account, call, seq, kind, amount, at)
  VALUES ('PGB-' || :a, :c, 2, 3, 350, 1) ON CONFLICT DO NOTHING;
COMMIT;
