-- Read by shell.txt's .read: statements over several lines, a dot command,
-- and a last statement without ';' that runs at the end of the file.
CREATE TABLE r (k INTEGER,
                v VARCHAR);
INSERT INTO r VALUES (1, 'x'), (2, 'y');
.mode csv
SELECT k, v FROM r ORDER BY k
