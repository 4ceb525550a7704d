"""Deployment manifests generated from Triage's own configs (KubeRay RayService)."""
