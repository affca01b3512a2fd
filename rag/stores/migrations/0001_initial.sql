-- The index in PostgreSQL: documents, their sentences and passages with offsets and vectors,
-- the journal of API writes, and one row of state (version + manifest).
-- {dimension} is replaced by the embedding model's dimension when the schema is created.

CREATE TABLE index_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL DEFAULT 0,
    dimension integer NOT NULL,
    manifest jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO index_state (dimension) VALUES ({dimension});

CREATE TABLE documents (
    doc_id text COLLATE "C" PRIMARY KEY,
    content_hash text NOT NULL,
    record_hash text NOT NULL,          -- sha256 of the whole record: a changed title or url is a change
    title text NOT NULL,
    text text NOT NULL,                 -- the original article text: citation offsets refer to it
    metadata jsonb NOT NULL             -- source, url, published, author, path, blocks
);

CREATE TABLE sentences (
    doc_id text COLLATE "C" NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    ordinal integer NOT NULL,           -- reading order within the document
    start_offset integer NOT NULL,
    end_offset integer NOT NULL,
    section integer NOT NULL,
    is_heading boolean NOT NULL,
    entities jsonb NOT NULL,            -- [[start, end, label], ...] in document offsets
    embedding vector({dimension}) NOT NULL,
    PRIMARY KEY (doc_id, ordinal),
    CHECK (start_offset >= 0 AND end_offset > start_offset)
);

CREATE TABLE passages (
    doc_id text COLLATE "C" NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    ordinal integer NOT NULL,
    passage_id text NOT NULL,
    start_offset integer NOT NULL,
    end_offset integer NOT NULL,
    sentence_ordinals integer[] NOT NULL,
    lexical_text text NOT NULL,         -- what BM25 sees: "title: text"
    embedding vector({dimension}) NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', lexical_text)) STORED,
    PRIMARY KEY (doc_id, ordinal),
    CHECK (start_offset >= 0 AND end_offset > start_offset)
);
-- Vectors are unit length: inner product is cosine, as in the FAISS backend's IndexFlatIP.
CREATE INDEX passages_embedding_hnsw ON passages USING hnsw (embedding vector_ip_ops);
CREATE INDEX passages_tsv_gin ON passages USING gin (tsv);

CREATE TABLE corpus_writes (
    seq bigserial PRIMARY KEY,
    op text NOT NULL CHECK (op IN ('put', 'delete')),
    doc_id text NOT NULL,
    article jsonb,
    at text NOT NULL
);
