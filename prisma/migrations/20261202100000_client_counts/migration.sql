-- Client counts per owner, kept by triggers on clients: the unfiltered client list reads its total
-- from one row instead of counting up to 10,001 of the owner's rows on every page.
-- Statement triggers with transition tables: one write per statement and owner, however many rows.
-- Updates write only when a client changes owner.
-- Function bodies are E strings with \073 for each semicolon: the migration runner splits
-- scripts on every semicolon, even inside quotes.
-- One transaction: client writes wait from the first trigger until the counts are filled in.

BEGIN;

-- CreateTable
CREATE TABLE "client_counts" (
    "owner_id" UUID NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "client_counts_pkey" PRIMARY KEY ("owner_id")
);

-- AddForeignKey
ALTER TABLE "client_counts" ADD CONSTRAINT "client_counts_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Inserted rows, and rows an update moved to another owner: the net change per owner, in owner order.
CREATE FUNCTION "client_counts_add"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  IF TG_OP = ''INSERT'' THEN
    INSERT INTO client_counts AS counts (owner_id, total)
    SELECT owner_id, count(*) FROM added_rows GROUP BY owner_id ORDER BY owner_id
    ON CONFLICT (owner_id) DO UPDATE SET total = counts.total + excluded.total\073
  ELSE
    INSERT INTO client_counts AS counts (owner_id, total)
    SELECT owner_id, sum(change) FROM (
      SELECT owner_id, 1 AS change FROM added_rows
      UNION ALL
      SELECT owner_id, -1 FROM removed_rows
    ) AS changes
    GROUP BY owner_id HAVING sum(change) <> 0 ORDER BY owner_id
    ON CONFLICT (owner_id) DO UPDATE SET total = counts.total + excluded.total\073
  END IF\073
  RETURN NULL\073
END';

-- Deleted rows: only existing counts change, so a cascade from a deleted user never inserts one.
CREATE FUNCTION "client_counts_remove"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  UPDATE client_counts AS counts SET total = counts.total - removed.total
  FROM (SELECT owner_id, count(*) AS total FROM removed_rows GROUP BY owner_id) AS removed
  WHERE counts.owner_id = removed.owner_id\073
  RETURN NULL\073
END';

CREATE FUNCTION "client_counts_clear"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  DELETE FROM client_counts\073
  RETURN NULL\073
END';

-- CreateTrigger
CREATE TRIGGER "clients_count_insert" AFTER INSERT ON "clients" REFERENCING NEW TABLE AS added_rows FOR EACH STATEMENT EXECUTE FUNCTION "client_counts_add"();

-- CreateTrigger
CREATE TRIGGER "clients_count_update" AFTER UPDATE ON "clients" REFERENCING OLD TABLE AS removed_rows NEW TABLE AS added_rows FOR EACH STATEMENT EXECUTE FUNCTION "client_counts_add"();

-- CreateTrigger
CREATE TRIGGER "clients_count_delete" AFTER DELETE ON "clients" REFERENCING OLD TABLE AS removed_rows FOR EACH STATEMENT EXECUTE FUNCTION "client_counts_remove"();

-- CreateTrigger
CREATE TRIGGER "clients_count_truncate" AFTER TRUNCATE ON "clients" FOR EACH STATEMENT EXECUTE FUNCTION "client_counts_clear"();

-- The counts of the clients already there.
INSERT INTO "client_counts" ("owner_id", "total")
SELECT "owner_id", count(*) FROM "clients" GROUP BY "owner_id";

COMMIT;
