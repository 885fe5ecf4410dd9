-- Read by shell.txt: an error in a .read file names the file and its line.
SELECT 1 AS one;

SELECT nope
  FROM (SELECT 1 AS a) AS s;
