"""Host side of Hoverslam: plant simulator, serial link, closed loop, recorder, replay."""
