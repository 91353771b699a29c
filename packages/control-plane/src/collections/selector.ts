// Kubernetes label selector matching.
import type { LabelSelector } from '../model/kube.js';

/** True when every label in `required` is present in `labels` with the same value (empty matches all). */
export function isSubset(
  required: Record<string, string>,
  labels: Record<string, string>,
): boolean {
  for (const [k, v] of Object.entries(required)) {
    if (labels[k] !== v) return false;
  }
  return true;
}

/** Full `LabelSelector` semantics: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
export function matchesSelector(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  if (!isSubset(selector.matchLabels ?? {}, labels)) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A selector's matchLabels, or undefined when it selects nothing in particular (absent or empty). */
export function nonEmptyLabels(
  selector: { matchLabels?: Record<string, string> } | undefined,
): Record<string, string> | undefined {
  const labels = selector?.matchLabels;
  return labels && Object.keys(labels).length > 0 ? labels : undefined;
}
