-- PostgreSQL only: the update trigger of the search's words (0024) writes
-- only the words a rewritten document lost or gained, document by
-- document, through the words' primary key.
--
-- Why (measured on the demo's million customers, BENCHMARKS.md): a
-- country change rewrites the documents ten thousand to a statement
-- (store/searchkeys.go), and `org set --country` took 10 min 33 s,
-- holding every node's writes. PL/pgSQL keeps a statement's plan for the
-- life of the connection, made for the transition tables of the first
-- call: after a 10,000-row call, every later one deleted through a hash
-- join over all eight million words (6.8 s, 0.4 s of it JIT compiling);
-- after a one-row call, a 10,000-row one joined the old and new documents
-- with a nested loop (100 million comparisons, 20 s).
--
-- Now the one query that pairs the old and new documents is planned at
-- each call (EXECUTE), for the rows it has, and gives each changed
-- document the words it lost and gained: a new phone reading changes a
-- few words, a name or email edit a few more, nothing else. Each
-- document's are then deleted and inserted by key, a cost per word
-- written whatever the call's size. JIT is off: the estimates over
-- transition tables are far above what the statements do, and compiling
-- cost more than running. 10,000 documents that each lost their phone's
-- words: 2.4 s.
CREATE OR REPLACE FUNCTION customers_search_words_update() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $f$
DECLARE
    d record;
BEGIN
    FOR d IN EXECUTE $q$
        SELECT o.id,
            ARRAY(SELECT customers_search_words(o.doc) EXCEPT SELECT customers_search_words(n.doc)) AS gone,
            ARRAY(SELECT customers_search_words(n.doc) EXCEPT SELECT customers_search_words(o.doc)) AS added
        FROM old_docs o JOIN new_docs n ON n.id = o.id WHERE n.doc <> o.doc
    $q$ LOOP
        DELETE FROM customers_search_words WHERE word = ANY (d.gone) AND id = d.id;
        INSERT INTO customers_search_words (word, id) SELECT unnest(d.added), d.id;
    END LOOP;
    RETURN NULL;
END $f$;
