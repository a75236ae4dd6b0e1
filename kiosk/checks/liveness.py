"""Doctor: are the liveness model files there and loadable?"""

from __future__ import annotations

from core.runtime import Runtime
from kiosk.checks.findings import Finding, Status, check


@check
def liveness_models(rt: Runtime) -> list[Finding]:
    # late: onnxruntime and the models load only when doctor checks liveness
    from core.errors import LivenessError
    from kiosk.liveness.texture import MiniFasNet, model_paths

    config = rt.config.liveness
    if not rt.config.face.enabled:
        return [Finding("liveness", Status.OK, "face punching is disabled (face.enabled = false)")]
    paths, problems = model_paths(config)
    if not problems:
        try:
            MiniFasNet(paths, threads=1)
        except LivenessError as exc:
            problems.append(str(exc))
    if not problems:
        return [
            Finding(
                "liveness", Status.OK, f"MiniFASNet models load ({paths['minifasnet_v2'].parent}); challenge: {config.challenge}"
            )
        ]
    todo = "install MiniFASNetV2.onnx and MiniFASNetV1SE.onnx and set liveness.minifasnet_v2 / liveness.minifasnet_v1se"
    if config.allow_challenge_only:
        return [
            Finding(
                "liveness",
                Status.WARN,
                "; ".join(problems) + " — face punching runs on the challenge alone (liveness.allow_challenge_only)",
                todo,
            )
        ]
    return [
        Finding(
            "liveness",
            Status.FAIL,
            "; ".join(problems) + " — face-only punching is refused",
            todo + " (or, knowingly, set liveness.allow_challenge_only = true)",
        )
    ]
