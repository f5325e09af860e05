/**
 * Repeated entity representations in one `_entities` call, sent once. The gateway's plans fetch an entity for
 * every place it appears: fifty commitments of one action plan ask the organizations subgraph for that plan's
 * member fifty times in one call, and the subgraph resolves each. Here a call's identical representations
 * (same JSON: the gateway builds them field by field in the same order) go out once, and the answer is spread
 * back to every position that asked, as Hive Gateway does (Apollo's gateway does not:
 * apollographql/federation#180, open since 2020). The gateway merges later answers into each entity object, so
 * a repeated position gets a copy, never a shared one.
 */

/** A call's representations with each distinct one once, and where each original position finds its answer. */
export interface UniqueRepresentations {
  /** The call's variables, with `representations` holding each distinct representation once. */
  variables: Record<string, unknown>;
  /** For each representation asked, the index of its answer in the call's `_entities`. */
  positions: number[];
  /** How many representations were not sent because an identical one was. */
  repeated: number;
}

/** `variables.representations` without its repeats; undefined when there is nothing to spare. */
export function uniqueRepresentations(
  variables: Record<string, unknown> | undefined,
): UniqueRepresentations | undefined {
  const asked = variables?.representations;
  if (!Array.isArray(asked) || asked.length < 2) return undefined;
  const index = new Map<string, number>();
  const unique: unknown[] = [];
  const positions = asked.map((representation) => {
    const key = JSON.stringify(representation);
    let at = index.get(key);
    if (at === undefined) {
      at = unique.push(representation) - 1;
      index.set(key, at);
    }
    return at;
  });
  if (unique.length === asked.length) return undefined;
  return {
    variables: { ...variables, representations: unique },
    positions,
    repeated: asked.length - unique.length,
  };
}

interface EntitiesAnswer {
  data?: Record<string, unknown> | null;
  errors?: readonly { path?: readonly (string | number)[] }[];
}

/**
 * The subgraph's answer to the unique representations, as if every position had been asked: `_entities` with an
 * entry per original position (the first position of each representation gets the entity, later ones a deep
 * copy), and each error about `_entities[j]` once per position that asked for j. Left as it is when `_entities` is
 * not the list of the unique representations' answers (then the gateway reports it as it would any bad answer).
 */
export function spreadEntities<T extends EntitiesAnswer>(answer: T, unique: UniqueRepresentations): T {
  const entities = answer.data?._entities;
  const count = (unique.variables.representations as unknown[]).length;
  if (!Array.isArray(entities) || entities.length !== count) return answer;
  const given = new Set<number>();
  const spread = unique.positions.map((j) => {
    if (given.has(j)) return copyJson(entities[j]);
    given.add(j);
    return entities[j];
  });
  const errors = answer.errors?.flatMap((error) => {
    const path = error.path;
    if (!path || path[0] !== '_entities' || typeof path[1] !== 'number') return [error];
    const at = path[1];
    return unique.positions.flatMap((j, i) =>
      j === at ? [{ ...error, path: ['_entities', i, ...path.slice(2)] }] : [],
    );
  });
  return { ...answer, data: { ...answer.data, _entities: spread }, ...(errors ? { errors } : {}) };
}

/** A copy of parsed JSON (objects, arrays, scalars). */
function copyJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = copyJson((value as Record<string, unknown>)[key]);
  return copy;
}
