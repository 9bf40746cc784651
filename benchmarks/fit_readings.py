"""Fit the smile and gaze models on the GENKI-4K training crops and rewrite their coefficient files.

    .venv/bin/python benchmarks/fit_readings.py            # fit, print CV figures, write the files
    .venv/bin/python benchmarks/fit_readings.py --dry-run  # fit and print only

Runs in seconds once ``benchmarks/corpus.py`` has cached the tracker's output (the first run
tracks 2 x 2,800 crops, about a minute).

What is fitted, on what (smile, ``assets/readings/smile_v2.json``):

* data: the 2,800 GENKI-4K training crops (``../shared/media/genki4k_train``), prepared as
  ``benchmarks/corpus.py`` says (4x bicubic, grey border) and run through the real tracker;
  the crops where no plausible face was found (the cutting detector's misses) are left out;
* label: the dataset's ``smile`` (0/1);
* model: logistic regression with an L2 penalty over the standardised features listed in
  :data:`FEATURES`, classes weighted to count equally (balanced accuracy is the goal).
  Each feature's sign is fixed by what the face does (FACS): ``mouthSmile*`` (AU12), the
  lifted mouth corners (also while the lips are closed), the cheek raise (AU6: the lower lids
  up) and a laugh's lips counted only within a smile (AU10 / AU25 no higher than AU12, so they
  cannot make a smile of a sneer or a gasp; capped at the median labelled smile's value, inside
  each fold) push toward "smiling"; the lip and brow actions of other expressions
  (AU24 press, AU15 frown, AU20 stretch, AU18 pucker, AU17 chin raise, AU28 lip roll, AU4
  brow lowerer) may only push away from it. A feature whose fitted weight takes the wrong
  sign is dropped and the model refitted (an active set), so nothing that means "grimace"
  can learn to mean "smile" from the quirks of one corpus;
* the penalty is chosen by an inner 5-fold cross-validation inside each outer fold, and every
  figure printed is from the outer 10 folds (held out); the file gets the fit on all faces;
* ``gain`` (how wide the 0..1 scale spreads around the 0.35 boundary) is set so that the median
  labelled smile of GENKI reads 0.85 (most are broad smiles with teeth): a shape of the scale,
  not a decision; it changes no AUC and no accuracy at 0.35.

Gaze (``assets/readings/gaze_v2.json``, fitted by :mod:`fit_gaze`, which says how): on the GENKI
faces with open eyes and their mirror images, the value of each eye sensor on a face looking into
the lens, as a curve of the head pose (robust to the faces whose eyes follow the head), and the
tolerance so that 97 % of the faces within the robust fit's reach read >= 0.6. The share printed
is from 10 held-out folds, over all open-eyed faces (about 5 % of them look away, by eye).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import fit_gaze as fg  # noqa: E402

from posecoach.geometry import plausible_geometry  # noqa: E402
from posecoach.geometry import head_angles  # noqa: E402
from posecoach.metrics import eye_openness, eye_state, gaze_features, smile_features  # noqa: E402
from posecoach.results import EyeState  # noqa: E402
from posecoach.readings import (  # noqa: E402
    GAZE_MODEL_FILE,
    SMILE_FEATURES,
    SMILE_MODEL_FILE,
    LinearReading,
)

#: feature -> +1 (may only raise the smile), -1 (may only lower it).
FEATURES: dict[str, int] = {
    "mouth_smile_sqrt": +1,
    "corner_lift": +1,
    "mouth_press": -1,
    "mouth_frown": -1,
    "mouth_stretch": -1,
    "mouth_pucker": -1,
    "mouth_shrug_lower": -1,
    "mouth_roll_lower": -1,
    "brow_down": -1,
    "lower_lid_rise": +1,
    "upper_lip_in_smile": +1,
    "lower_lip_in_smile": +1,
    "closed_lip_lift": +1,
}
#: Features that saturate: a smile that already raises its upper lip or drops its lower lip as
#: much as the median labelled smile is not more of a smile for more of it (and MediaPipe reads
#: those lips less steadily than the corners). Each is capped at that median of the training faces.
SATURATING = ("upper_lip_in_smile", "lower_lip_in_smile")
LAMBDAS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
THRESHOLD = 0.35
MEDIAN_SMILE_READS = 0.85
OUTER_K, INNER_K, SEED = 10, 5, 20240601


# -- the statistics ---------------------------------------------------------------------------
def roc_auc(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (ties count half), by ranks."""
    from scipy.stats import rankdata

    r = rankdata(score)
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def balanced_accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    pred, y = np.asarray(pred, bool), np.asarray(y, bool)
    return float(0.5 * (pred[y].mean() + (~pred[~y]).mean()))


def best_balanced_accuracy(score: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The best balanced accuracy over every threshold, and that threshold (an oracle figure)."""
    best = (0.0, 0.0)
    for t in np.unique(score):
        b = balanced_accuracy(score >= t, y)
        if b > best[0]:
            best = (b, float(t))
    return best


# -- the model -----------------------------------------------------------------------------------
def fit_logistic(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """L2-penalised, class-balanced logistic regression by Newton's method; ``[w..., bias]``."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    sw = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1.0 - y.mean()))
    reg = lam * np.eye(d + 1)
    reg[-1, -1] = 0.0  # the bias is not penalised
    beta = np.zeros(d + 1)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(xb @ beta)))
        grad = xb.T @ (sw * (p - y)) + reg @ beta
        hess = (xb * (sw * p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return beta


def fit_signed(x: np.ndarray, y: np.ndarray, signs: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit with sign constraints by an active set; returns (weights, bias, centre, scale) on all columns."""
    centre, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    z = (x - centre) / scale
    active = np.ones(x.shape[1], bool)
    while True:
        beta = fit_logistic(z[:, active], y, lam)
        w = np.zeros(x.shape[1])
        w[active] = beta[:-1]
        wrong = active & (np.sign(w) * signs < 0)
        if not wrong.any():
            return w, float(beta[-1]), centre, scale
        active &= ~wrong  # drop the wrong-signed features and refit


def predict(x: np.ndarray, w: np.ndarray, b: float, centre: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return ((x - centre) / scale) @ w + b


def folds(n: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n) % k


def choose_lambda(x: np.ndarray, y: np.ndarray, signs: np.ndarray, seed: int) -> float:
    """The penalty with the best inner-CV log loss."""
    f = folds(len(y), INNER_K, seed)
    losses = []
    for lam in LAMBDAS:
        loss = 0.0
        for k in range(INNER_K):
            tr = f != k
            w, b, c, s = fit_signed(x[tr], y[tr], signs, lam)
            z = predict(x[~tr], w, b, c, s)
            loss += float(np.sum(np.logaddexp(0.0, -z * (2 * y[~tr] - 1))))
        losses.append(loss)
    return LAMBDAS[int(np.argmin(losses))]


def smile_caps(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per column of :data:`FEATURES`: the cap of a saturating feature (its median over the
    labelled smiles of ``x``), infinity for the others."""
    caps = np.full(x.shape[1], np.inf)
    for j, name in enumerate(FEATURES):
        if name in SATURATING:
            caps[j] = float(np.median(x[y == 1, j]))
    return caps


def cross_validated_logits(x: np.ndarray, y: np.ndarray, signs: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Outer-fold held-out logits (caps and penalty chosen inside each fold)."""
    f = folds(len(y), OUTER_K, SEED)
    out = np.zeros(len(y))
    chosen = []
    for k in range(OUTER_K):
        tr = f != k
        xc = np.minimum(x, smile_caps(x[tr], y[tr]))
        lam = choose_lambda(xc[tr], y[tr], signs, SEED + k + 1)
        chosen.append(lam)
        w, b, c, s = fit_signed(xc[tr], y[tr], signs, lam)
        out[~tr] = predict(xc[~tr], w, b, c, s)
    return out, chosen


# -- the data ------------------------------------------------------------------------------------
def genki_features(scale: float = 4.0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(features (N, len(SMILE_FEATURES)), labels, files) of the plausible GENKI faces."""
    g = corpus.track_genki(scale)
    rows, labels, files = [], [], []
    for i in range(len(g.files)):
        face = g.face(i)
        if not face.has_face:
            continue
        geom = plausible_geometry(face)
        if geom is None:
            continue
        rows.append(smile_features(face, geom))
        labels.append(int(g.smile[i]))
        files.append(g.files[i])
    return np.array(rows), np.array(labels, float), files


# -- gaze (the fit itself is in fit_gaze.py) -----------------------------------------------------
def gaze_rows(flip: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(yaw, pitch, look_x, look_y, upper_lid)`` of GENKI faces with open eyes, and their
    indices in the corpus."""
    g = corpus.track_genki(4.0, flip=flip)
    rows, index = [], []
    for i in range(len(g.files)):
        face = g.face(i)
        geom = plausible_geometry(face) if face.has_face else None
        if geom is None:
            continue
        yaw, pitch, _ = head_angles(face.matrix)
        if eye_state(face, eye_openness(face, geom), pitch) is not EyeState.OPEN:
            continue  # shut or glancing down: gaze_on_lens reads 0 there by rule
        rows.append((yaw, pitch, *gaze_features(face, geom)))
        index.append(i)
    return np.array(rows), np.array(index)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print the fit, do not write the file")
    ap.add_argument("--out", type=Path, default=SMILE_MODEL_FILE)
    args = ap.parse_args(argv)

    x_all, y, _ = genki_features()
    cols = [SMILE_FEATURES.index(f) for f in FEATURES]
    x = x_all[:, cols]
    signs = np.array(list(FEATURES.values()), float)

    cv, chosen = cross_validated_logits(x, y, signs)
    auc = roc_auc(cv, y)
    ba = balanced_accuracy(cv >= 0.0, y)
    best, _ = best_balanced_accuracy(cv, y)
    print(f"GENKI-4K train, {len(y)} faces ({int(y.sum())} smiling), {OUTER_K}-fold CV (held out):")
    print(f"  ROC AUC {auc:.4f}  balanced accuracy at the boundary (0.35) {ba:.4f}  (best threshold {best:.4f})")
    print(f"  penalties chosen per fold: {chosen}")

    caps = smile_caps(x, y)
    x = np.minimum(x, caps)
    lam = choose_lambda(x, y, signs, SEED)
    w, b, c, s = fit_signed(x, y, signs, lam)
    keep = np.abs(w) > 0
    names = [n for n, k in zip(FEATURES, keep) if k]
    logits = predict(x, w, b, c, s)
    gain = (math.log(MEDIAN_SMILE_READS / (1 - MEDIAN_SMILE_READS)) - math.log(THRESHOLD / (1 - THRESHOLD))) / float(
        np.median(logits[y == 1])
    )
    print(f"final fit: penalty {lam}, gain {gain:.4f}")
    for n, wi, ci, si in zip(FEATURES, w, c, s):
        print(f"  {n:18s} weight {wi:+.4f}  (centre {ci:.4f}, scale {si:.4f}){'' if wi else '  dropped'}")

    model = LinearReading(
        name="smile",
        version=2,
        features=tuple(names),
        centre=tuple(round(float(v), 6) for v in c[keep]),
        scale=tuple(round(float(v), 6) for v in s[keep]),
        weights=tuple(round(float(v), 6) for v in w[keep]),
        bias=round(b, 6),
        threshold=THRESHOLD,
        gain=round(gain, 6),
        cap=tuple(round(float(v), 6) if np.isfinite(v) else None for v in caps[keep]),
        fitted_on=(
            f"GENKI-4K training split (MPLab UCSD), {len(y)} crops with a plausible face "
            f"({int(y.sum())} smiling), 4x bicubic + grey border, mediapipe face_landmarker v1"
        ),
        notes=(
            f"benchmarks/fit_readings.py: class-balanced L2 logistic regression, sign-constrained (FACS), "
            f"penalty {lam} by inner 5-fold CV; lip features capped at the median labelled smile's value; "
            f"{OUTER_K}-fold held-out ROC AUC {auc:.4f}, balanced accuracy {ba:.4f} at 0.35; gain puts the median "
            f"labelled smile at {MEDIAN_SMILE_READS}"
        ),
    )

    (r0, i0), (r1, i1) = gaze_rows(False), gaze_rows(True)
    rows, n_orig = np.vstack([r0, r1]), len(r0)
    by_file = folds(len(corpus.genki_labels()[0]), OUTER_K, SEED)
    f = np.concatenate([by_file[i0], by_file[i1]])  # a face and its mirror image share a fold
    held = np.zeros(len(rows))
    for k in range(OUTER_K):
        tr = f != k
        held[~tr] = fg.gaze_scores(fg.fit_gaze(rows[tr]), rows[~tr])
    gaze = fg.fit_gaze(rows)
    share = float(np.mean(held >= fg.ON_LENS_READS))
    print(f"gaze: {n_orig} GENKI faces with open eyes (+ mirrored), {OUTER_K}-fold held-out share >= 0.6: {share:.4f}")
    print(f"  {gaze}")
    gaze = fg.rounded(
        gaze,
        fitted_on=f"GENKI-4K training split, {n_orig} faces with open eyes and their mirror images, 4x bicubic + grey border",
        notes=(
            f"benchmarks/fit_gaze.py: on-lens curves by Tukey biweight (faces whose eyes follow the head or look away get "
            f"no weight); sigma so that {fg.ON_LENS_SHARE:.0%} of the faces within the biweight's reach read >= "
            f"{fg.ON_LENS_READS}; 10-fold held-out share of all open-eyed faces {share:.4f}"
        ),
    )
    if args.dry_run:
        print(json.dumps(model.to_dict(), indent=1))
        print(json.dumps(gaze.to_dict(), indent=1))
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_dict(), indent=1) + "\n")
    GAZE_MODEL_FILE.write_text(json.dumps(gaze.to_dict(), indent=1) + "\n")
    print(f"wrote {args.out} and {GAZE_MODEL_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
