-- Three changes that keep a client-list page's cost flat in the owner's size (issue #15, item 2).
--
-- 1. Search matches one case-folded copy of name, email and company with a byte-wise LIKE, instead of
--    three ILIKEs that fold every row's case through ICU on every read (about 5x the CPU a row). The
--    copy is a stored generated column: lower() through the ICU collation name already sorts by, so
--    letters outside A-Z fold as before. The fields are joined with U+001F (unit separator), which no
--    search can contain (the route refuses control characters), so a match never spans two fields.
--    Its trigram index replaces the three-column one, for searches too rare to find by walking the
--    owner's rows in order.
--
-- 2. The sort indexes carry status and search_text, so a filtered page walks the index alone.
--
-- 3. Page marks: every 500th row of an owner's clients in created_at and in name order (ascending,
--    with the id tie-breaker), with its position. A page by number far into a large owner starts at
--    the nearest mark and skips fewer than 500 rows, instead of an OFFSET over all the rows before it.
--    A mark set belongs to one version of the owner's clients: client_counts.version, which the
--    triggers below move on every write that can move a row (insert, delete, a change of name,
--    created_at or owner). A set whose version is not the current one is never read, so a mark can be
--    missing (the page then uses OFFSET) but never wrong. Versions come from a sequence, never reused,
--    even when a TRUNCATE drops the counts and they start again.
--
-- Function bodies are E strings with \073 for each semicolon: the migration runner splits scripts
-- on every semicolon, even inside quotes. One transaction, like the counts' migration.

BEGIN;

-- AlterTable
ALTER TABLE "clients" ADD COLUMN "search_text" TEXT COLLATE "C" GENERATED ALWAYS AS (
  lower(("name" || E'\x1f' || coalesce("email", '') || E'\x1f' || coalesce("company", '')) COLLATE "und-x-icu")
) STORED;

-- DropIndex
DROP INDEX "clients_search_trgm_idx";

-- CreateIndex
CREATE INDEX "clients_search_text_trgm_idx" ON "clients" USING GIN ("search_text" gin_trgm_ops);

-- The two orders' indexes carry status and search_text (INCLUDE), so a filtered page tests each row it
-- walks past in the index alone (an index-only scan) and reads from the table only the rows it answers,
-- by id. Without them, a search that matches one row in fifty reads fifty table rows per answered row.
DROP INDEX "clients_owner_id_created_at_id_idx";

-- CreateIndex
CREATE INDEX "clients_owner_id_created_at_id_idx" ON "clients"("owner_id", "created_at" DESC, "id" DESC) INCLUDE ("status", "search_text");

-- DropIndex
DROP INDEX "clients_owner_id_name_id_idx";

-- CreateIndex
CREATE INDEX "clients_owner_id_name_id_idx" ON "clients"("owner_id", "name", "id") INCLUDE ("status", "search_text");

-- CreateSequence
CREATE SEQUENCE "client_counts_version_seq";

-- AlterTable
ALTER TABLE "client_counts" ADD COLUMN "version" BIGINT NOT NULL DEFAULT nextval('client_counts_version_seq');

-- CreateTable
CREATE TABLE "client_page_marks" (
    "owner_id" UUID NOT NULL,
    "sort_key" TEXT NOT NULL,
    "version" BIGINT NOT NULL,
    "position" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3),
    "name" TEXT COLLATE "und-x-icu",
    "id" UUID NOT NULL,

    CONSTRAINT "client_page_marks_pkey" PRIMARY KEY ("owner_id","sort_key","version","position")
);

-- AddForeignKey
ALTER TABLE "client_page_marks" ADD CONSTRAINT "client_page_marks_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Inserted rows, and updated ones: the net count change per owner, in owner order, and a new version
-- for every owner whose rows were inserted, or updated in a way that can move them in a sort.
CREATE OR REPLACE FUNCTION "client_counts_add"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  IF TG_OP = ''INSERT'' THEN
    INSERT INTO client_counts AS counts (owner_id, total)
    SELECT owner_id, count(*) FROM added_rows GROUP BY owner_id ORDER BY owner_id
    ON CONFLICT (owner_id) DO UPDATE
      SET total = counts.total + excluded.total, version = nextval(''client_counts_version_seq'')\073
  ELSE
    INSERT INTO client_counts AS counts (owner_id, total)
    SELECT owner_id, sum(change) FROM (
      SELECT owner_id, 1 AS change FROM added_rows
      UNION ALL
      SELECT owner_id, -1 FROM removed_rows
    ) AS changes
    GROUP BY owner_id HAVING sum(change) <> 0 ORDER BY owner_id
    ON CONFLICT (owner_id) DO UPDATE
      SET total = counts.total + excluded.total, version = nextval(''client_counts_version_seq'')\073
    UPDATE client_counts AS counts SET version = nextval(''client_counts_version_seq'')
    FROM (
      SELECT DISTINCT removed.owner_id FROM removed_rows AS removed JOIN added_rows AS added USING (id)
      WHERE added.name IS DISTINCT FROM removed.name OR added.created_at IS DISTINCT FROM removed.created_at
         OR added.owner_id IS DISTINCT FROM removed.owner_id
    ) AS moved
    WHERE counts.owner_id = moved.owner_id\073
  END IF\073
  RETURN NULL\073
END';

-- Deleted rows: only existing counts change, so a cascade from a deleted user never inserts one.
CREATE OR REPLACE FUNCTION "client_counts_remove"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  UPDATE client_counts AS counts
  SET total = counts.total - removed.total, version = nextval(''client_counts_version_seq'')
  FROM (SELECT owner_id, count(*) AS total FROM removed_rows GROUP BY owner_id) AS removed
  WHERE counts.owner_id = removed.owner_id\073
  RETURN NULL\073
END';

CREATE OR REPLACE FUNCTION "client_counts_clear"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  DELETE FROM client_counts\073
  DELETE FROM client_page_marks\073
  RETURN NULL\073
END';

COMMIT;
