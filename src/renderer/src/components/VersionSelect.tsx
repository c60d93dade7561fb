// Picking a store version: each version once, named by its message; the latest is the default
// entry (no version chosen), so it is never listed twice.
import { useId } from 'react';
import type { VersionJson } from '../../../shared/registry-types';

export function VersionSelect({ versions, value, onChange }: { versions: VersionJson[]; value: string | undefined; onChange: (version: string | undefined) => void }) {
  const id = useId();
  const latest = versions.find((v) => v.is_latest);
  const selected = value === undefined || String(latest?.version) === value ? '' : value;
  return (
    <div className="field">
      <label htmlFor={id}>Version</label>
      <select id={id} value={selected} onChange={(e) => onChange(e.target.value || undefined)}>
        {!latest && <option value="">Latest</option>}
        {versions.map((v) => (
          <option key={v.uid} value={v.is_latest ? '' : String(v.version)}>
            v{v.version}
            {v.is_latest ? ' (latest)' : ''} — {v.message ?? v.run?.transform ?? 'unknown'}
          </option>
        ))}
      </select>
    </div>
  );
}
