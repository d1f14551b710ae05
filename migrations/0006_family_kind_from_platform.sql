-- A family's kind comes from the platform, never from the path that created it first.
-- A CLI import into a Telegram group that had not written yet stored it as 'private', which
-- made every member who then wrote an admin. Telegram group ids are negative: those rows
-- become groups again, and the members they promoted go back to members (a real chat admin
-- is an admin again at their next message, from Telegram's own word).
UPDATE members SET role = 'member'
 WHERE family_id IN (SELECT id FROM families
                      WHERE platform = 'telegram' AND chat_id LIKE '-%' AND kind = 'private');
UPDATE families SET kind = 'group'
 WHERE platform = 'telegram' AND chat_id LIKE '-%' AND kind = 'private';
-- Families no message has reached yet (created by an import) wait for their first message
-- to say what they are; until then nobody is an admin by being a member.
UPDATE families SET kind = 'group'
 WHERE platform NOT IN ('telegram', 'console') AND kind = 'private'
   AND NOT EXISTS (SELECT 1 FROM members m WHERE m.family_id = families.id)
   AND NOT EXISTS (SELECT 1 FROM messages g WHERE g.family_id = families.id);
