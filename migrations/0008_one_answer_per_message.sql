-- One answer per turn. A turn killed after its answer was written but before it was marked
-- answered was answered again at the next start, leaving the first answer behind: an orphan
-- that `hearth logs` and the report counted (and a second assistant turn in the history).
-- Of several answers to one message the delivered one stays (it has platform messages
-- linked), else the newest; the others go with their assistant turns, entries and returns.
CREATE TEMP TABLE answer_keep AS
SELECT a.id AS id FROM answers a
 WHERE a.message_id IS NOT NULL
   AND a.id = (SELECT b.id FROM answers b
                WHERE b.family_id = a.family_id AND b.message_id = a.message_id
                ORDER BY EXISTS (SELECT 1 FROM answer_messages l WHERE l.answer_id = b.id) DESC,
                         b.id DESC
                LIMIT 1);
DELETE FROM messages
 WHERE role = 'assistant'
   AND EXISTS (SELECT 1 FROM answers a
                WHERE a.family_id = messages.family_id
                  AND messages.platform_message_id = 'answer:' || a.id
                  AND a.message_id IS NOT NULL
                  AND a.id NOT IN (SELECT id FROM answer_keep));
DELETE FROM answers WHERE message_id IS NOT NULL AND id NOT IN (SELECT id FROM answer_keep);
DROP TABLE answer_keep;
CREATE UNIQUE INDEX answers_one_per_message ON answers (message_id) WHERE message_id IS NOT NULL;
